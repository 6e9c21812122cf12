//! `POST /v1/chat/completions`: streaming (SSE) and not, with usage counts, JSON-schema output
//! and tool calls (in the model's own format where it has one; see `sirocco_engine::tools`).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use sirocco_engine::{GenerateRequest, GenerationEvent};

use super::request::{self, ApiJson};
use super::sse;
use crate::wire::{
    AssistantMessage, ChatChoice, ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, ChatLogprobs,
    ChunkChoice, Delta, ResponseToolCall, Usage,
};
use crate::{ApiError, Shared};

pub async fn handle(
    State(state): Shared,
    ApiJson(body, admission): ApiJson<ChatCompletionRequest>,
) -> Result<Response, ApiError> {
    let tools = request::tools(body.tools, body.tool_choice, body.parallel_tool_calls)?;
    let logprobs = request::logprobs(body.logprobs.unwrap_or(false), body.top_logprobs, "top_logprobs")?;
    let messages = request::messages(body.messages)?;
    let (served, lease) = state.lease(body.model.as_deref(), admission).await?;
    request::check_images(&messages, &served, "messages")?;
    let mut sampling = request::sampling(body.sampling, &served)?;
    request::response_format(body.response_format, &mut sampling)?;
    if tools.is_some() && sampling.json_schema.is_some() {
        return Err(ApiError::invalid(
            "tools and a JSON response_format cannot be used together.",
            Some("response_format"),
        ));
    }
    // A reasoning model's thought is answered apart, as `reasoning_content`, unless asked not to.
    let request = GenerateRequest {
        tools,
        reasoning_effort: body.thinking.effort(body.reasoning_effort),
        separate_reasoning: body.thinking.separate(),
        thinking_budget: body.thinking.thinking_budget,
        logprobs,
        drafting: body.drafting.limits(),
        ..GenerateRequest::new(messages, sampling)
    };
    let mut generation = lease.engine().generate(request)?;
    let id = request::id("chatcmpl");
    let created = request::now();
    let model = served.id.clone();

    if body.stream {
        let include_usage = body.stream_options.is_some_and(|o| o.include_usage);
        let chunk = {
            let (id, model) = (id.clone(), model.clone());
            move |delta: Delta,
                  finish: Option<&'static str>,
                  usage: Option<Usage>,
                  choices: bool,
                  lp: Option<ChatLogprobs>| {
                serde_json::to_string(&ChatCompletionChunk {
                    id: id.clone(),
                    object: "chat.completion.chunk",
                    created,
                    model: model.clone(),
                    choices: if choices {
                        vec![ChunkChoice { index: 0, delta, finish_reason: finish, logprobs: lp }]
                    } else {
                        vec![]
                    },
                    usage,
                    system_fingerprint: "sirocco",
                })
                .expect("chunks serialise")
            }
        };
        let delta = |content: Option<String>, tool_calls: Option<Vec<ResponseToolCall>>| Delta {
            role: None,
            content,
            reasoning_content: None,
            tool_calls,
        };
        let first = vec![chunk(
            Delta { role: Some("assistant"), content: Some(String::new()), reasoning_content: None, tool_calls: None },
            None,
            None,
            true,
            None,
        )];
        let sse = sse::respond(
            generation,
            first,
            move |event| match event {
                GenerationEvent::Text { text, logprobs: tokens, .. } => {
                    let lp = logprobs.map(|_| ChatLogprobs::of(tokens));
                    vec![chunk(delta(Some(text), None), None, None, true, lp)]
                }
                GenerationEvent::Reasoning { text } => {
                    vec![chunk(Delta { reasoning_content: Some(text), ..delta(None, None) }, None, None, true, None)]
                }
                GenerationEvent::ToolCalls { calls } => {
                    vec![chunk(delta(None, Some(ResponseToolCall::from_calls(calls, true))), None, None, true, None)]
                }
                GenerationEvent::Done { stats } => {
                    let finish = Some(request::finish_reason(&stats.finish_reason));
                    let mut out = vec![chunk(delta(None, None), finish, None, true, None)];
                    if include_usage {
                        let usage = Usage::from_stats(&stats);
                        out.push(chunk(delta(None, None), None, Some(usage), false, None));
                    }
                    out
                }
                GenerationEvent::Error { message, .. } => vec![sse::error_data(&message)],
            },
            "messages",
            lease,
        )
        .await?;
        return Ok(sse.into_response());
    }

    let (answer, stats) = request::answer(&mut generation, "messages", |_| {}).await?;
    let tool_calls = (!answer.tool_calls.is_empty()).then(|| ResponseToolCall::from_calls(answer.tool_calls, false));
    let content = answer.text;
    let reasoning = answer.reasoning;
    Ok(Json(ChatCompletion {
        id,
        object: "chat.completion",
        created,
        model,
        choices: vec![ChatChoice {
            index: 0,
            message: AssistantMessage {
                role: "assistant",
                content: (tool_calls.is_none() || !content.is_empty()).then_some(content),
                reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
                tool_calls,
            },
            finish_reason: request::finish_reason(&stats.finish_reason),
            logprobs: logprobs.map(|_| ChatLogprobs::of(answer.logprobs)),
        }],
        usage: Usage::from_stats(&stats),
        system_fingerprint: "sirocco",
    })
    .into_response())
}
