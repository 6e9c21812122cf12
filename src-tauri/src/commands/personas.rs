//! Personas: list, save, delete, and import a SillyTavern character card.

use base64::Engine as _;
use sirocco_store::{parse_character_card, Persona, PersonaDraft};
use tauri::State;

use crate::error::IpcResult;
use crate::AppState;

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn personas_list(state: State<'_, AppState>) -> IpcResult<Vec<Persona>> {
    Ok(state.store.personas().await?)
}

/// Creates a persona (`id` none) or updates one; returns its id.
#[tauri::command]
#[tracing::instrument(skip_all, fields(id = ?id), err(level = "warn", Display))]
pub async fn persona_save(state: State<'_, AppState>, id: Option<i64>, draft: PersonaDraft) -> IpcResult<i64> {
    match id {
        Some(id) => {
            state.store.update_persona(id, &draft).await?;
            Ok(id)
        }
        None => Ok(state.store.create_persona(&draft).await?),
    }
}

#[tauri::command]
#[tracing::instrument(skip_all, fields(id = ?id), err(level = "warn", Display))]
pub async fn persona_delete(state: State<'_, AppState>, id: i64) -> IpcResult<()> {
    Ok(state.store.delete_persona(id).await?)
}

/// A character card file's bytes (base64) → a new persona; returns it.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn persona_import_card(state: State<'_, AppState>, base64: String) -> IpcResult<Persona> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64.as_bytes())
        .map_err(|_| "the file could not be read")?;
    let draft = parse_character_card(&bytes)?;
    let id = state.store.create_persona(&draft).await?;
    Ok(state.store.persona(id).await?)
}
