//! Server-sent events as each API frames them: chat and text completions as OpenAI does,
//! `data: {json}\n\n` per chunk, then `data: [DONE]\n\n`, nothing after it; the Responses and
//! Anthropic Messages APIs as named events (`event: <type>\ndata: {json}\n\n`) with no `[DONE]`.
//! A client that goes away drops the stream; the task feeding it then drops the generation,
//! which stops the engine within one token.

use std::convert::Infallible;

use axum::response::sse::{Event, Sse};
use futures_util::future::BoxFuture;
use futures_util::Stream;
use sirocco_engine::{Generation, GenerationEvent};
use tokio_stream::wrappers::ReceiverStream;

use crate::{ApiError, Lease};

/// Waits for the engine's first event, so a request that fails at once (too long, the
/// context busy) gets its HTTP status; then streams `first`, what `map` makes of each engine
/// event, and `[DONE]`.
pub async fn respond(
    generation: Generation,
    first: Vec<String>,
    mut map: impl FnMut(GenerationEvent) -> Vec<String> + Send + 'static,
    param: &'static str,
    lease: Lease,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let data = |all: Vec<String>| all.into_iter().map(|d| Event::default().data(d)).collect::<Vec<_>>();
    let map = move |e| -> BoxFuture<'static, Vec<Event>> { Box::pin(std::future::ready(data(map(e)))) };
    respond_events(generation, data(first), map, Some("[DONE]"), param, lease).await
}

/// One named event: `event: <name>` and its JSON.
pub fn named(name: &str, data: &impl serde::Serialize) -> Event {
    Event::default().event(name).data(serde_json::to_string(data).expect("events serialise"))
}

/// As [`respond`], with events made by the caller and `done` (if any) as the last data. `map`'s
/// future runs before its events are sent (the Responses API keeps an answer before it says
/// the answer is complete).
pub async fn respond_events(
    mut generation: Generation,
    first: Vec<Event>,
    mut map: impl FnMut(GenerationEvent) -> BoxFuture<'static, Vec<Event>> + Send + 'static,
    done: Option<&'static str>,
    param: &'static str,
    lease: Lease,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let opening = match generation.events.recv().await {
        Some(GenerationEvent::Error { message, busy, overflow }) => {
            return Err(ApiError::from_generation(message, busy, overflow, param))
        }
        Some(event) => event,
        None => return Err(ApiError::unavailable("The engine stopped before the answer began.")),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Event, Infallible>>(64);
    tokio::spawn(async move {
        // The request counts as in flight until its stream ends.
        let _lease = lease;
        for event in first {
            if tx.send(Ok(event)).await.is_err() {
                return;
            }
        }
        let mut next = Some(opening);
        while let Some(event) = match next.take() {
            Some(e) => Some(e),
            None => generation.events.recv().await,
        } {
            let last = event.is_last();
            for event in map(event).await {
                if tx.send(Ok(event)).await.is_err() {
                    // The client went away: dropping `generation` stops the engine.
                    return;
                }
            }
            if last {
                break;
            }
        }
        if let Some(done) = done {
            let _ = tx.send(Ok(Event::default().data(done))).await;
        }
    });
    Ok(Sse::new(ReceiverStream::new(rx)))
}

/// An error in the middle of a stream, as OpenAI sends it.
pub fn error_data(message: &str) -> String {
    serde_json::json!({ "error": { "message": message, "type": "server_error", "param": null, "code": null } })
        .to_string()
}
