//! `POST /api/generate`: a completion of `prompt`, streamed as NDJSON (the default) or whole.
//! The prompt is a user message in the model's chat template (with `system`), unless `raw`;
//! with `suffix`, fill-in-the-middle in the model's own format (Codestral's, for one); `images`
//! go with the prompt. An empty prompt loads the model and says so (`done_reason: "load"`), or
//! with `keep_alive: 0` unloads it (`"unload"`).
//!
//! `context` (Ollama's older way to continue a conversation): the last piece of a templated
//! answer without images carries the conversation's tokens — its prompt, then the answer; a
//! request that sends them back is answered after them, token for token (its own prompt
//! templated and appended, its BOS dropped; nothing is parsed again as text).

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
    let (served, lease, load) = super::lease(&state, &body.model, body.options.as_ref()).await?;
    keep.apply(&state, &served.id);
    if nothing {
        return Ok(Json(chunk(String::new(), None, Some("load"), Metrics::default())).into_response());
    }
    let mut sampling = super::sampling(body.options, &served)?;
    super::format(body.format, &mut sampling)?;
    let images = body.images.iter().map(|data| request::base64_image(data, "images")).collect::<Result<Vec<_>, _>>()?;
    let suffix = body.suffix.filter(|s| !s.is_empty());
    let context = body.context.filter(|c| !c.is_empty());
    if context.is_some() && (suffix.is_some() || body.raw || !images.is_empty()) {
        return Err(OllamaError::invalid(
            "context continues a templated prompt: send it without suffix, raw or images",
        ));
    }
    let engine = lease.engine().clone();
    // The conversation's tokens before the answer, for a templated prompt: what `context` says.
    let mut conversation: Option<Vec<i32>> = None;
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
        let seen = !images.is_empty();
        messages.push(ChatMessage { images, ..ChatMessage::new(Role::User, body.prompt) });
        request::check_images(&messages, &served, "images")?;
        let templated = sirocco_engine::GenerateRequest {
            reasoning_effort: effort,
            ..sirocco_engine::GenerateRequest::new(messages, sampling.clone())
        };
        if seen {
            // An image's tokens are no vocabulary's: such a prompt has no `context` to give.
            templated
        } else {
            let prompt = engine.prompt_tokens_for(templated.clone()).await?;
            match context {
                Some(before) => {
                    // Token for token, nothing parsed again (text in the prompt stays text); the
                    // prompt's own BOS dropped after the conversation's.
                    let tokens = [before, without_bos(&engine, prompt).await?].concat();
                    conversation = Some(tokens.clone());
                    sirocco_engine::GenerateRequest {
                        prompt_tokens: Some(tokens),
                        ..sirocco_engine::GenerateRequest::new(Vec::new(), sampling)
                    }
                }
                None => {
                    conversation = Some(prompt);
                    templated
                }
            }
        }
    };
    let request = sirocco_engine::GenerateRequest { reasoning_effort: effort, separate_reasoning: true, ..request };
    let mut generation = lease.engine().generate(request)?;
    // What the answer adds to the conversation's tokens.
    let answered = std::sync::Arc::new(std::sync::Mutex::new(String::new()));

    if body.stream != Some(false) {
        let answered_here = answered.clone();
        let finish = conversation.map(|tokens| -> super::Finish {
            Box::new(move |mut last| {
                Box::pin(async move {
                    let text = std::mem::take(&mut *answered.lock().unwrap());
                    if let Ok(context) = context_after(&engine, tokens, text).await {
                        last["context"] = serde_json::json!(context);
                    }
                    last
                })
            })
        });
        return super::stream(
            generation,
            move |event| {
                let piece = match event {
                    GenerationEvent::Text { text, .. } => {
                        answered_here.lock().unwrap().push_str(&text);
                        chunk(text, None, None, Metrics::default())
                    }
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
            finish,
            "prompt",
            lease,
        )
        .await;
    }

    let (answer, stats) = request::answer(&mut generation, "prompt", |_| {}).await?;
    let thinking = (!answer.reasoning.is_empty()).then_some(answer.reasoning);
    let context = match conversation {
        Some(tokens) => Some(context_after(&engine, tokens, answer.text.clone()).await?),
        None => None,
    };
    let whole = GenerateChunk {
        context,
        ..chunk(answer.text, thinking, Some(super::done_reason(&stats)), super::metrics(&stats, started, load))
    };
    Ok(Json(whole).into_response())
}

/// `tokens` without the model's BOS at their start (a templated prompt's, following a
/// conversation that has its own).
async fn without_bos(engine: &sirocco_engine::Engine, tokens: Vec<i32>) -> Result<Vec<i32>, OllamaError> {
    let bos = engine.tokenize(String::new(), true, false).await?;
    Ok(match (bos.first(), tokens.first()) {
        (Some(bos), Some(first)) if first == bos => tokens[1..].to_vec(),
        _ => tokens,
    })
}

/// The conversation's tokens once `answer` followed the prompt's `tokens` (what `context` says).
async fn context_after(
    engine: &sirocco_engine::Engine,
    mut tokens: Vec<i32>,
    answer: String,
) -> Result<Vec<i32>, OllamaError> {
    tokens.extend(engine.tokenize(answer, false, false).await?);
    Ok(tokens)
}
