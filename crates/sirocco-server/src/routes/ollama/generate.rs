//! `POST /api/generate`: a completion of `prompt`, streamed as NDJSON (the default) or whole.
//! The prompt is a user message in the model's chat template (with `system`), unless `raw`;
//! with `suffix`, fill-in-the-middle in the model's own format (Codestral's, for one); `images`
//! go with the prompt. An empty prompt loads the model and says so (`done_reason: "load"`), or
//! with `keep_alive: 0` unloads it (`"unload"`).

use std::time::{Instant, SystemTime};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use sirocco_engine::{ChatMessage, GenerationEvent, Role};

use super::{KeepFor, OllamaError, OllamaJson};
use crate::routes::request;
use crate::wire::ollama::{GenerateChunk, GenerateRequest, Metrics};
use crate::Shared;

pub async fn handle(
    State(state): Shared,
    OllamaJson(body): OllamaJson<GenerateRequest>,
) -> Result<Response, OllamaError> {
    let started = Instant::now();
    let effort = super::effort(body.think)?;
    let keep = super::keep_for(body.keep_alive)?;
    let nothing = body.prompt.is_empty() && body.suffix.as_deref().is_none_or(str::is_empty);
    let name = body.model.clone();
    let chunk =
        move |response: String, thinking: Option<String>, done_reason: Option<&'static str>, metrics: Metrics| {
            GenerateChunk {
                model: name.clone(),
                created_at: super::timestamp(SystemTime::now()),
                response,
                thinking,
                done: done_reason.is_some(),
                done_reason,
                context: None,
                metrics,
            }
        };
    if nothing && keep == KeepFor::Unload {
        super::unload(&state, &body.model).await?;
        return Ok(Json(chunk(String::new(), None, Some("unload"), Metrics::default())).into_response());
    }
    let (served, lease, load) = super::lease(&state, &body.model).await?;
    if nothing {
        return Ok(Json(chunk(String::new(), None, Some("load"), Metrics::default())).into_response());
    }
    let mut sampling = super::sampling(body.options, &served)?;
    super::format(body.format, &mut sampling)?;
    let images = body.images.iter().map(|data| request::base64_image(data, "images")).collect::<Result<Vec<_>, _>>()?;
    let suffix = body.suffix.filter(|s| !s.is_empty());
    let request = if let Some(suffix) = suffix {
        if !images.is_empty() {
            return Err(OllamaError::invalid("images cannot go with a suffix (fill-in-the-middle)"));
        }
        sirocco_engine::GenerateRequest::infill(body.prompt, suffix, sampling)
    } else if body.raw {
        if !images.is_empty() {
            return Err(OllamaError::invalid("images need the chat template: send them without raw"));
        }
        sirocco_engine::GenerateRequest::completion(body.prompt, sampling)
    } else {
        let mut messages = Vec::new();
        if let Some(system) = body.system.filter(|s| !s.is_empty()) {
            messages.push(ChatMessage::new(Role::System, system));
        }
        messages.push(ChatMessage { images, ..ChatMessage::new(Role::User, body.prompt) });
        request::check_images(&messages, &served, "images")?;
        sirocco_engine::GenerateRequest::new(messages, sampling)
    };
    let request = sirocco_engine::GenerateRequest { reasoning_effort: effort, separate_reasoning: true, ..request };
    let mut generation = lease.engine().generate(request)?;

    if body.stream != Some(false) {
        return super::stream(
            generation,
            move |event| {
                let piece = match event {
                    GenerationEvent::Text { text, .. } => chunk(text, None, None, Metrics::default()),
                    GenerationEvent::Reasoning { text } => chunk(String::new(), Some(text), None, Metrics::default()),
                    GenerationEvent::Done { stats } => chunk(
                        String::new(),
                        None,
                        Some(super::done_reason(&stats)),
                        super::metrics(&stats, started, load),
                    ),
                    GenerationEvent::ToolCalls { .. } | GenerationEvent::Error { .. } => return vec![],
                };
                vec![serde_json::to_value(piece).expect("chunks serialise")]
            },
            "prompt",
            lease,
        )
        .await;
    }

    let (answer, stats) = request::answer(&mut generation, "prompt", |_| {}).await?;
    let thinking = (!answer.reasoning.is_empty()).then_some(answer.reasoning);
    let whole = chunk(answer.text, thinking, Some(super::done_reason(&stats)), super::metrics(&stats, started, load));
    Ok(Json(whole).into_response())
}
