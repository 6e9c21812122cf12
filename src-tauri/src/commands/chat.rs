//! A conversation turn (send, regenerate, edit, continue) streamed to the page; stop.

use std::sync::atomic::Ordering;

use sirocco_chat::{run_turn, TurnEvent, TurnRequest};
use sirocco_engine::{ChatMessage, GenerateRequest, GenerationEvent, SamplingParams};
use tauri::ipc::Channel;
use tauri::State;

use crate::error::IpcResult;
use crate::AppState;

/// Runs one turn, streaming its events to `on_event`; resolves with the answer's id when the
/// answer is finished (done, stopped or failed — a failure is saved with it and sent as an event).
#[tauri::command]
pub async fn chat_turn(state: State<'_, AppState>, request: TurnRequest, on_event: Channel<TurnEvent>) -> IpcResult<i64> {
    let cancel_slot = &state.generation_cancel;
    let _model = hold_model(&state).await;
    // A page that went away stops the turn; what was generated is kept.
    Ok(run_turn(&state.store, &state.engine, request, |c| *cancel_slot.lock().unwrap() = Some(c), |e| on_event.send(e).is_ok()).await?)
}

/// While the server runs, an answer in the app holds the loaded model: an API request naming
/// another model waits for the answer instead of cutting it off.
async fn hold_model(state: &AppState) -> Option<sirocco_server::ModelHold> {
    let hold = state.server.lock().await.as_ref().map(|server| server.hold_model());
    match hold {
        Some(hold) => Some(hold.await),
        None => None,
    }
}

#[tauri::command]
pub fn stop_generation(state: State<'_, AppState>) {
    if let Some(cancel) = state.generation_cancel.lock().unwrap().as_ref() {
        cancel.store(true, Ordering::Relaxed);
    }
}

/// Arena: a one-off answer to `messages` that is not saved (the page shows two side by side).
#[tauri::command]
pub async fn arena_generate(
    state: State<'_, AppState>,
    messages: Vec<ChatMessage>,
    sampling: SamplingParams,
    on_event: Channel<GenerationEvent>,
) -> IpcResult<()> {
    let _model = hold_model(&state).await;
    let mut generation = state.engine.generate(GenerateRequest::new(messages, sampling))?;
    *state.generation_cancel.lock().unwrap() = Some(generation.cancel_handle());
    while let Some(event) = generation.events.recv().await {
        let last = !matches!(event, GenerationEvent::Text { .. });
        if on_event.send(event).is_err() {
            generation.cancel_handle().store(true, Ordering::Relaxed);
        }
        if last {
            break;
        }
    }
    Ok(())
}
