//! `POST /v1/completions`: plain text completion of a prompt (no chat template), streaming or not;
//! with `suffix`, fill-in-the-middle in the model's own FIM format (Codestral: suffix first). A
//! reasoning model's thought (a prompt that opens one, or the model opening its own) comes apart
//! as `reasoning_content`, as in chat completions.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use sirocco_engine::{GenerateRequest, GenerationEvent};

use super::request::{self, ApiJson};
use super::sse;
use crate::wire::{CompletionRequest, PromptField, TextChoice, TextCompletion, TextLogprobs, Usage};
use crate::{ApiError, Shared};

pub async fn handle(
    State(state): Shared,
    ApiJson(body, admission): ApiJson<CompletionRequest>,
) -> Result<Response, ApiError> {
    let prompt = match body.prompt {
        PromptField::One(p) => p,
        PromptField::Many(mut v) if v.len() == 1 => v.remove(0),
        PromptField::Many(_) => return Err(ApiError::invalid("Send one prompt per request.", Some("prompt"))),
    };
    if prompt.is_empty() {
        return Err(ApiError::invalid("prompt must not be empty.", Some("prompt")));
    }
    // A count of alternatives; present (even 0) asks for the tokens' log-probabilities.
    let logprobs = request::logprobs(body.logprobs.is_some(), body.logprobs, "logprobs")?;
    let (served, lease) = state.lease(body.model.as_deref(), admission).await?;
    let sampling = request::sampling(body.sampling, &served)?;
    // An empty suffix is no suffix (OpenAI's default), so plain completion.
    let (request, param) = match body.suffix.filter(|s| !s.is_empty()) {
        Some(suffix) => (GenerateRequest::infill(prompt, suffix, sampling), "suffix"),
        None => (GenerateRequest::completion(prompt, sampling), "prompt"),
    };
    let request = GenerateRequest {
        separate_reasoning: body.thinking.separate(),
        thinking_budget: body.thinking.thinking_budget,
        logprobs,
        drafting: body.drafting.limits(),
        ..request
    };
    let mut generation = lease.engine().generate(request)?;
    let id = request::id("cmpl");
    let created = request::now();
    let model = served.id.clone();
    let chunk = {
        let (id, model) = (id.clone(), model.clone());
        move |text: String,
              reasoning: Option<String>,
              finish: Option<&'static str>,
              usage: Option<Usage>,
              lp: Option<TextLogprobs>| {
            serde_json::to_string(&TextCompletion {
                id: id.clone(),
                object: "text_completion",
                created,
                model: model.clone(),
                choices: vec![TextChoice {
                    index: 0,
                    text,
                    reasoning_content: reasoning,
                    finish_reason: finish,
                    logprobs: lp,
                }],
                usage,
                system_fingerprint: "sirocco",
            })
            .expect("chunks serialise")
        }
    };

    if body.stream {
        let include_usage = body.stream_options.is_some_and(|o| o.include_usage);
        let mut offset = 0;
        let sse = sse::respond(
            generation,
            Vec::new(),
            move |event| match event {
                GenerationEvent::Text { text, logprobs: tokens, .. } => {
                    let lp = logprobs.map(|_| TextLogprobs::of(tokens, &mut offset));
                    vec![chunk(text, None, None, None, lp)]
                }
                GenerationEvent::Reasoning { text } => vec![chunk(String::new(), Some(text), None, None, None)],
                // A text completion offers no tools.
                GenerationEvent::ToolCalls { .. } => Vec::new(),
                GenerationEvent::Done { stats } => {
                    let usage = include_usage.then(|| Usage::from_stats(&stats));
                    vec![chunk(String::new(), None, Some(request::finish_reason(&stats.finish_reason)), usage, None)]
                }
                GenerationEvent::Error { message, .. } => vec![sse::error_data(&message)],
            },
            param,
            lease,
        )
        .await?;
        return Ok(sse.into_response());
    }

    let (answer, stats) = request::answer(&mut generation, param, |_| {}).await?;
    let usage = Usage::from_stats(&stats);
    let reasoning = (!answer.reasoning.is_empty()).then_some(answer.reasoning);
    let finish = Some(request::finish_reason(&stats.finish_reason));
    let tokens = logprobs.map(|_| TextLogprobs::of(answer.logprobs, &mut 0));
    let body: serde_json::Value =
        serde_json::from_str(&chunk(answer.text, reasoning, finish, Some(usage), tokens)).expect("valid JSON");
    Ok(Json(body).into_response())
}
