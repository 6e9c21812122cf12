//! Presets: list, save (create or update), duplicate, delete; a model's default preset.

use sirocco_store::{Preset, PresetParams};
use tauri::State;

use crate::error::IpcResult;
use crate::AppState;

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn presets_list(state: State<'_, AppState>) -> IpcResult<Vec<Preset>> {
    Ok(state.store.presets().await?)
}

/// Creates a preset (`id` none) or updates one; returns its id.
#[tauri::command]
#[tracing::instrument(skip_all, fields(id = ?id, name = ?name), err(level = "warn", Display))]
pub async fn preset_save(
    state: State<'_, AppState>,
    id: Option<i64>,
    name: String,
    params: PresetParams,
) -> IpcResult<i64> {
    match id {
        Some(id) => {
            state.store.update_preset(id, &name, &params).await?;
            Ok(id)
        }
        None => Ok(state.store.create_preset(&name, &params).await?),
    }
}

#[tauri::command]
#[tracing::instrument(skip_all, fields(id = ?id), err(level = "warn", Display))]
pub async fn preset_duplicate(state: State<'_, AppState>, id: i64) -> IpcResult<i64> {
    Ok(state.store.duplicate_preset(id).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, fields(id = ?id), err(level = "warn", Display))]
pub async fn preset_delete(state: State<'_, AppState>, id: i64) -> IpcResult<()> {
    Ok(state.store.delete_preset(id).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, fields(path = ?path), err(level = "warn", Display))]
pub async fn model_preset_get(state: State<'_, AppState>, path: String) -> IpcResult<Option<i64>> {
    Ok(state.store.model_preset(&path).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, fields(path = ?path, preset_id = ?preset_id), err(level = "warn", Display))]
pub async fn model_preset_set(state: State<'_, AppState>, path: String, preset_id: i64) -> IpcResult<()> {
    Ok(state.store.set_model_preset(&path, preset_id).await?)
}
