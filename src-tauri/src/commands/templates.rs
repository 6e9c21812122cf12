//! A model's chat template in the user's hands: the file's own, the user's (kept per model file
//! and used by every load of it), checked by rendering a sample conversation before it is kept.
//! The server's loads read it too, through `Store::model_load_params`.

use std::path::PathBuf;

use sirocco_engine::chat_template::{self, SpecialTokens};
use tauri::State;

use crate::error::{blocking, IpcError, IpcResult};
use crate::AppState;

/// A model's templates: its own (none: ChatML, or Mistral's native format) and the user's.
#[derive(serde::Serialize, ts_rs::TS)]
pub struct ModelTemplate {
    own: Option<String>,
    custom: Option<String>,
}

#[tauri::command]
#[tracing::instrument(skip_all, fields(path = ?path), err(level = "warn", Display))]
pub async fn model_template(state: State<'_, AppState>, path: PathBuf) -> IpcResult<ModelTemplate> {
    let custom = state.store.model_template(&sirocco_store::template_key(&path)).await?;
    let own = blocking(move || Ok::<_, IpcError>(sirocco_engine::gguf_file::inspect(&path)?.chat_template)).await?;
    Ok(ModelTemplate { own, custom })
}

/// `template` rendered over a sample conversation: what the model would read (or why not).
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn template_preview(template: String) -> IpcResult<String> {
    blocking(move || Ok::<_, IpcError>(chat_template::sample(&template, &SpecialTokens::default())?)).await
}

/// Keeps `template` for the model at `path` once it renders; returns the sample it rendered.
/// Takes effect at the model's next load.
#[tauri::command]
#[tracing::instrument(skip_all, fields(path = ?path), err(level = "warn", Display))]
pub async fn template_save(state: State<'_, AppState>, path: PathBuf, template: String) -> IpcResult<String> {
    let checked = template.clone();
    let sample =
        blocking(move || Ok::<_, IpcError>(chat_template::sample(&checked, &SpecialTokens::default())?)).await?;
    state.store.set_model_template(&sirocco_store::template_key(&path), &template).await?;
    Ok(sample)
}

/// The model's own template again (at its next load).
#[tauri::command]
#[tracing::instrument(skip_all, fields(path = ?path), err(level = "warn", Display))]
pub async fn template_reset(state: State<'_, AppState>, path: PathBuf) -> IpcResult<()> {
    state.store.reset_model_template(&sirocco_store::template_key(&path)).await?;
    Ok(())
}
