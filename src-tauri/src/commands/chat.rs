//! A conversation turn (send, regenerate, edit, continue) streamed to the page; stop; the
//! arena's unsaved answers — the runtime's (`sirocco_runtime::Runtime::run_turn`,
//! `answer_once`), each under the stream name the page gives (`chat`, `arena-0`, …).

use std::path::PathBuf;

use sirocco_chat::{ToolHost, TurnEvent, TurnRequest};
use sirocco_engine::{ChatMessage, GenerationEvent, SamplingParams};
use tauri::ipc::Channel;
use tauri::{AppHandle, State};

use crate::error::IpcResult;
use crate::AppState;

/// Runs one turn on the model the request names (its `model` file, loaded; else the user's),
/// with the tools of the MCP servers it names, streaming its events to `on_event`; resolves
/// with the last answer's id when the turn is finished (done, stopped or failed — a failure is
/// saved with it and sent as an event). A page that went away stops the turn; what was
/// generated is kept.
#[tauri::command]
#[tracing::instrument(skip_all, fields(stream = ?stream), err(level = "warn", Display))]
pub async fn chat_turn(
    app: AppHandle,
    state: State<'_, AppState>,
    request: TurnRequest,
    stream: Option<String>,
    on_event: Channel<TurnEvent>,
) -> IpcResult<i64> {
    let tools = crate::commands::tools::chat_tools(&app, &state, &request.tools).await?;
    let stream = stream.unwrap_or_else(|| "chat".into());
    let tools = tools.as_ref().map(|t| t as &dyn ToolHost);
    Ok(state.run_turn(request, tools, &stream, |e| on_event.send(e).is_ok()).await?)
}

/// Stops the answer streaming under `stream` (every answer when none is named).
#[tauri::command]
#[tracing::instrument(skip_all, fields(stream = ?stream))]
pub fn stop_generation(state: State<'_, AppState>, stream: Option<String>) {
    state.stop(stream.as_deref());
}

/// Arena: a one-off answer to `messages` from model file `model` (loaded) that is not saved
/// (the page shows two side by side).
#[tauri::command]
#[tracing::instrument(skip_all, fields(stream = ?stream), err(level = "warn", Display))]
pub async fn arena_generate(
    state: State<'_, AppState>,
    messages: Vec<ChatMessage>,
    sampling: SamplingParams,
    model: Option<PathBuf>,
    stream: Option<String>,
    on_event: Channel<GenerationEvent>,
) -> IpcResult<()> {
    let stream = stream.unwrap_or_else(|| "arena".into());
    Ok(state.answer_once(messages, sampling, model.as_deref(), &stream, |e| on_event.send(e).is_ok()).await?)
}
