//! A conversation turn (send, regenerate, edit, continue) streamed to the page; stop; the
//! arena's unsaved answers. Each answer holds a lease on its model (never unloaded under it)
//! and has its own stop flag under the stream name the page gives (`chat`, `arena-0`, …).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use sirocco_chat::{run_turn_with_tools, Reading, ToolHost, Turn, TurnEvent, TurnRequest};
use sirocco_engine::{ChatMessage, GenerateRequest, GenerationEvent, SamplingParams};
use tauri::ipc::Channel;
use tauri::{AppHandle, State};

use crate::error::IpcResult;
use crate::AppState;

/// The stream an answer runs under when the page names none.
fn stream_or_chat(stream: Option<String>) -> String {
    stream.unwrap_or_else(|| "chat".into())
}

/// Runs one turn on the model the request names (its `model` file, loaded; else the user's),
/// with the tools of the MCP servers it names, streaming its events to `on_event`; resolves
/// with the last answer's id when the turn is finished (done, stopped or failed — a failure is
/// saved with it and sent as an event).
#[tauri::command]
#[tracing::instrument(skip_all, fields(stream = ?stream), err(level = "warn", Display))]
pub async fn chat_turn(
    app: AppHandle,
    state: State<'_, AppState>,
    request: TurnRequest,
    stream: Option<String>,
    on_event: Channel<TurnEvent>,
) -> IpcResult<i64> {
    let model = state.lease(request.model.as_deref().map(std::path::Path::new)).await?;
    let tools = crate::commands::tools::chat_tools(&app, &state, &request.tools).await?;
    let stream = stream_or_chat(stream);
    let generations = &state.generations;
    // Documents too long for the context are searched with the library's embedding model's
    // vectors (loaded beside the chat model), else with the answering model's.
    let embedder = documents_embedder(&state, &request).await;
    let searcher = embedder.as_ref().unwrap_or(&model);
    let reading = Reading {
        context_length: model.model().context_length as usize,
        embedder: searcher.engine(),
        embedder_name: searcher.id().to_string(),
    };
    // A page that went away stops the turn; what was generated is kept.
    let answer = run_turn_with_tools(
        &state.store,
        model.engine(),
        request,
        tools.as_ref().map(|t| t as &dyn ToolHost),
        Some(&reading),
        |c| {
            generations.lock().unwrap().insert(stream.clone(), c);
        },
        |e| on_event.send(e).is_ok(),
    )
    .await;
    generations.lock().unwrap().remove(&stream);
    Ok(answer?)
}

/// The model that searches a turn's documents: an embedding model from the library (nomic-embed,
/// bge, all-MiniLM…: the first found), leased — loaded beside the chat model if it is not yet —
/// when the turn may need one (new documents, or an edited question that may carry some);
/// `None` (the answering model searches) when the library has none or it cannot be loaded.
async fn documents_embedder(state: &AppState, request: &TurnRequest) -> Option<sirocco_host::Lease> {
    let reads = match &request.turn {
        Turn::Send { attachments, .. } => attachments
            .iter()
            .any(|a| !a.mime.starts_with("image/") && sirocco_documents::Kind::of(&a.name, &a.mime).is_some()),
        Turn::Edit { .. } => true,
        _ => false,
    };
    if !reads {
        return None;
    }
    let roots = state.library_roots();
    let models = tauri::async_runtime::spawn_blocking(move || sirocco_hub::library::scan(&roots)).await.ok()?;
    let found = models.into_iter().find(|m| m.embedding)?;
    let params = sirocco_engine::LoadParams { parallel: 1, ..sirocco_engine::LoadParams::default() };
    let spec = sirocco_host::ModelSpec { id: found.id(), path: found.path, params };
    state
        .host
        .lease_or_load(spec)
        .await
        .inspect_err(|e| tracing::warn!("the embedding model could not be loaded; the chat model searches: {e}"))
        .ok()
}

/// Stops the answer streaming under `stream` (every answer when none is named).
#[tauri::command]
#[tracing::instrument(skip_all, fields(stream = ?stream))]
pub fn stop_generation(state: State<'_, AppState>, stream: Option<String>) {
    for (name, cancel) in state.generations.lock().unwrap().iter() {
        if stream.as_ref().is_none_or(|s| s == name) {
            cancel.store(true, Ordering::Relaxed);
        }
    }
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
    let lease = state.lease(model.as_deref()).await?;
    let mut generation = lease.engine().generate(GenerateRequest::new(messages, sampling))?;
    let stream = stream.unwrap_or_else(|| "arena".into());
    let cancel: Arc<AtomicBool> = generation.cancel_handle();
    state.generations.lock().unwrap().insert(stream.clone(), cancel.clone());
    // Every event goes to the page, to the last one (`is_last`: a thought or tool calls do not
    // end an answer).
    sirocco_engine::collect(&mut generation, |event| {
        if on_event.send(event.clone()).is_err() {
            cancel.store(true, Ordering::Relaxed);
        }
    })
    .await;
    state.generations.lock().unwrap().remove(&stream);
    Ok(())
}
