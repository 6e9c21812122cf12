//! The model library: every local model, and deleting what Sirocco downloaded.

use std::path::PathBuf;

use sirocco_hub::library::{self, LibraryModel};
use tauri::State;

use crate::error::IpcResult;
use crate::AppState;

#[tauri::command]
pub async fn library_list(state: State<'_, AppState>) -> IpcResult<Vec<LibraryModel>> {
    let roots = state.library_roots();
    Ok(tauri::async_runtime::spawn_blocking(move || library::scan(&roots)).await.map_err(|e| e.to_string())?)
}

/// Deletes the model whose file llama.cpp loads is `path`; returns the bytes freed.
#[tauri::command]
pub async fn library_delete(state: State<'_, AppState>, path: PathBuf) -> IpcResult<u64> {
    let roots = state.library_roots();
    tauri::async_runtime::spawn_blocking(move || {
        let model = library::scan(&roots).into_iter().find(|m| m.path == path).ok_or("that model is no longer there")?;
        Ok(library::delete(&model)?)
    })
    .await
    .map_err(|e| e.to_string())?
}
