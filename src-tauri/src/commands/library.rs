//! The model library: every local model, folders and files the user adds (used in place),
//! deleting what Sirocco owns, and showing a model in the file manager.

use std::path::PathBuf;

use sirocco_hub::library::{self, LibraryModel};
use tauri::{AppHandle, State};

use crate::error::{blocking, IpcError, IpcResult};
use crate::{settings, AppState};

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn library_list(state: State<'_, AppState>) -> IpcResult<Vec<LibraryModel>> {
    let roots = state.library_roots();
    blocking(move || Ok::<_, IpcError>(library::scan(&roots))).await
}

/// Deletes the model whose file llama.cpp loads is `path`; returns the bytes freed.
#[tauri::command]
#[tracing::instrument(skip_all, fields(path = ?path), err(level = "warn", Display))]
pub async fn library_delete(state: State<'_, AppState>, path: PathBuf) -> IpcResult<u64> {
    let model = model_at(&state, path).await?;
    blocking(move || library::delete(&model)).await
}

/// The folders and files the user added.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn library_locations(state: State<'_, AppState>) -> Vec<PathBuf> {
    state.library_locations.read().unwrap().clone()
}

/// Adds a folder (its GGUF files, four levels down) or one GGUF file to the library, where it
/// is: nothing is copied.
#[tauri::command]
#[tracing::instrument(skip_all, fields(path = ?path), err(level = "warn", Display))]
pub async fn library_add(app: AppHandle, state: State<'_, AppState>, path: String) -> IpcResult<Vec<PathBuf>> {
    let path = PathBuf::from(path.trim());
    if !path.is_absolute() {
        return Err(format!("{} is not a full path (it should start with /)", path.display()).into());
    }
    let meta = std::fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_file() {
        let is_gguf = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gguf"));
        if !is_gguf {
            return Err(format!("{} is not a .gguf file", path.display()).into());
        }
        let file = path.clone();
        blocking(move || sirocco_engine::gguf_file::inspect(&file))
            .await
            .map_err(|e| IpcError::new(e.kind, format!("{}: {}", path.display(), e.message)))?;
    }
    let mut locations = state.library_locations.read().unwrap().clone();
    if !locations.contains(&path) {
        locations.push(path);
    }
    settings::save_library_locations(&app, &locations)?;
    *state.library_locations.write().unwrap() = locations.clone();
    Ok(locations)
}

/// Removes an added folder or file from the library (nothing on disk is touched).
#[tauri::command]
#[tracing::instrument(skip_all, fields(path = ?path), err(level = "warn", Display))]
pub fn library_remove_location(app: AppHandle, state: State<'_, AppState>, path: PathBuf) -> IpcResult<Vec<PathBuf>> {
    let mut locations = state.library_locations.read().unwrap().clone();
    locations.retain(|l| l != &path);
    settings::save_library_locations(&app, &locations)?;
    *state.library_locations.write().unwrap() = locations.clone();
    Ok(locations)
}

/// Shows a library model's file in the file manager (selected in its folder).
#[tauri::command]
#[tracing::instrument(skip_all, fields(path = ?path), err(level = "warn", Display))]
pub async fn library_reveal(state: State<'_, AppState>, path: PathBuf) -> IpcResult<()> {
    let shown = model_at(&state, path).await?.path;
    super::reveal_in_file_manager(shown).await
}

/// The library model whose loaded file is `path` (the page never names files outside it).
async fn model_at(state: &AppState, path: PathBuf) -> IpcResult<LibraryModel> {
    let roots = state.library_roots();
    blocking(move || Ok::<_, IpcError>(library::scan(&roots).into_iter().find(|m| m.path == path)))
        .await?
        .ok_or_else(|| IpcError::not_found("that model is no longer there"))
}
