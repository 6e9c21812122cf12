use std::sync::atomic::Ordering;

use sirocco_engine::{ChatMessage, GenerateRequest, GenerationEvent, OverflowPolicy, SamplingParams};
use tauri::ipc::Channel;
use tauri::State;

use crate::error::IpcResult;
use crate::AppState;

/// Generates a reply to `messages`, streaming every event to `on_event`; resolves when the
/// generation has finished (stopped, cancelled or failed).
#[tauri::command]
pub async fn send_message(
    state: State<'_, AppState>,
    messages: Vec<ChatMessage>,
    sampling: Option<SamplingParams>,
    reply_prefix: Option<String>,
    overflow: Option<OverflowPolicy>,
    on_event: Channel<GenerationEvent>,
) -> IpcResult<()> {
    let request = GenerateRequest {
        reply_prefix,
        overflow: overflow.unwrap_or_default(),
        ..GenerateRequest::new(messages, sampling.unwrap_or_default())
    };
    let mut generation = state.engine.generate(request)?;
    *state.generation_cancel.lock().unwrap() = Some(generation.cancel_handle());
    while let Some(event) = generation.events.recv().await {
        let last = !matches!(event, GenerationEvent::Text { .. });
        if on_event.send(event).is_err() {
            // The page went away: stop generating for nobody.
            generation.cancel_handle().store(true, Ordering::Relaxed);
        }
        if last {
            break;
        }
    }
    Ok(())
}

#[tauri::command]
pub fn stop_generation(state: State<'_, AppState>) {
    if let Some(cancel) = state.generation_cancel.lock().unwrap().as_ref() {
        cancel.store(true, Ordering::Relaxed);
    }
}
