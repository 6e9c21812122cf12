//! `POST /api/chat`: a chat answer, streamed as NDJSON (the default) or whole; tools (calls as
//! objects, results as `tool` messages naming their tool), images (base64), `format` (JSON or
//! a schema) and `think`. No messages loads the model and says so (`done_reason: "load"`), or
//! with `keep_alive: 0` unloads it (`"unload"`).

use std::time::{Instant, SystemTime};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use sirocco_engine::{ChatMessage, GenerateRequest, GenerationEvent, Role, ToolCall};

use super::{KeepFor, OllamaError, OllamaJson};
use crate::routes::request;
use crate::wire::ollama::{AnswerMessage, ChatChunk, ChatRequest, FunctionOut, Message, Metrics, ToolCallOut};
use crate::Shared;

pub async fn handle(State(state): Shared, OllamaJson(body): OllamaJson<ChatRequest>) -> Result<Response, OllamaError> {
    let started = Instant::now();
    let messages = messages(body.messages)?;
    let tools = request::tools((!body.tools.is_empty()).then_some(body.tools), None, None)?;
    let effort = super::effort(body.think)?;
    let keep = super::keep_for(body.keep_alive)?;
    let name = body.model.clone();
    let chunk = move |message: AnswerMessage, done_reason: Option<&'static str>, metrics: Metrics| ChatChunk {
        model: name.clone(),
        created_at: super::timestamp(SystemTime::now()),
        message,
        done: done_reason.is_some(),
        done_reason,
        metrics,
    };
    let nothing = || AnswerMessage { role: "assistant", content: String::new(), thinking: None, tool_calls: vec![] };
    if messages.is_empty() && keep == KeepFor::Unload {
        super::unload(&state, &body.model).await?;
        return Ok(Json(chunk(nothing(), Some("unload"), Metrics::default())).into_response());
    }
    let (served, lease, load) = super::lease(&state, &body.model, body.options.as_ref()).await?;
    keep.apply(&state, &served.id);
    if messages.is_empty() {
        return Ok(Json(chunk(nothing(), Some("load"), Metrics::default())).into_response());
    }
    request::check_images(&messages, &served, "messages")?;
    let mut sampling = super::sampling(body.options, &served)?;
    super::format(body.format, &mut sampling)?;
    let request = GenerateRequest {
        tools,
        reasoning_effort: effort,
        separate_reasoning: true,
        ..GenerateRequest::new(messages, sampling)
    };
    let mut generation = lease.engine().generate(request)?;
    let message = |content: String, thinking: Option<String>, tool_calls: Vec<ToolCallOut>| AnswerMessage {
        role: "assistant",
        content,
        thinking,
        tool_calls,
    };

    if body.stream != Some(false) {
        return super::stream(
            generation,
            move |event| {
                let piece = match event {
                    GenerationEvent::Text { text, .. } => chunk(message(text, None, vec![]), None, Metrics::default()),
                    GenerationEvent::Reasoning { text } => {
                        chunk(message(String::new(), Some(text), vec![]), None, Metrics::default())
                    }
                    GenerationEvent::ToolCalls { calls } => {
                        chunk(message(String::new(), None, calls_out(calls)), None, Metrics::default())
                    }
                    GenerationEvent::Done { stats } => chunk(
                        message(String::new(), None, vec![]),
                        Some(super::done_reason(&stats)),
                        super::metrics(&stats, started, load),
                    ),
                    GenerationEvent::Error { .. } => return vec![],
                };
                vec![serde_json::to_value(piece).expect("chunks serialise")]
            },
            None,
            "messages",
            lease,
        )
        .await;
    }

    let (answer, stats) = request::answer(&mut generation, "messages", |_| {}).await?;
    let thinking = (!answer.reasoning.is_empty()).then_some(answer.reasoning);
    let whole = message(answer.text, thinking, calls_out(answer.tool_calls));
    Ok(Json(chunk(whole, Some(super::done_reason(&stats)), super::metrics(&stats, started, load))).into_response())
}

/// The model's calls as Ollama writes them: arguments as an object, each with an id and index.
fn calls_out(calls: Vec<ToolCall>) -> Vec<ToolCallOut> {
    calls
        .into_iter()
        .enumerate()
        .map(|(index, call)| ToolCallOut {
            id: if call.id.is_empty() { crate::routes::request::item_id("call") } else { call.id },
            function: FunctionOut {
                index,
                name: call.name,
                arguments: serde_json::from_str(&call.arguments).unwrap_or_else(|_| Value::Object(Default::default())),
            },
        })
        .collect()
}

/// Ollama's messages as the engine's. Its clients send calls without ids and results naming
/// their tool rather than a call: each call gets an id, and each result the id of the earliest
/// call to its tool not yet answered.
pub(super) fn messages(input: Vec<Message>) -> Result<Vec<ChatMessage>, OllamaError> {
    let mut out: Vec<ChatMessage> = Vec::with_capacity(input.len());
    let mut unanswered: Vec<(String, String)> = Vec::new();
    for (n, m) in input.into_iter().enumerate() {
        let role = match m.role.to_ascii_lowercase().as_str() {
            "system" => Role::System,
            "user" => Role::User,
            "assistant" => Role::Assistant,
            "tool" => Role::Tool,
            other => return Err(OllamaError::invalid(format!("invalid role: {other}"))),
        };
        let mut images = Vec::new();
        for data in &m.images {
            if role != Role::User {
                return Err(OllamaError::invalid("only user messages carry images"));
            }
            images.push(request::base64_image(data, "messages")?);
        }
        let mut tool_calls = Vec::new();
        for (i, call) in m.tool_calls.into_iter().enumerate() {
            if role != Role::Assistant {
                return Err(OllamaError::invalid("only assistant messages carry tool_calls"));
            }
            let id = call.id.filter(|id| !id.is_empty()).unwrap_or_else(|| format!("call{n}x{i}"));
            let arguments = match call.function.arguments {
                Value::String(text) => text,
                Value::Null => "{}".to_owned(),
                other => other.to_string(),
            };
            unanswered.push((call.function.name.clone(), id.clone()));
            tool_calls.push(ToolCall { id, name: call.function.name, arguments });
        }
        let tool_call_id = if role == Role::Tool {
            let by_id = m.tool_call_id.filter(|id| !id.is_empty());
            let answered = match (&by_id, &m.tool_name) {
                (Some(id), _) => unanswered.iter().position(|(_, i)| i == id),
                (None, Some(name)) => unanswered.iter().position(|(n, _)| n == name),
                (None, None) => (!unanswered.is_empty()).then_some(0),
            };
            let id = answered.map(|at| unanswered.remove(at).1).or(by_id);
            Some(id.ok_or_else(|| OllamaError::invalid("a tool message answers no tool call before it"))?)
        } else {
            None
        };
        out.push(ChatMessage {
            images,
            tool_calls,
            tool_call_id,
            reasoning_content: m.thinking.filter(|t| role == Role::Assistant && !t.is_empty()),
            ..ChatMessage::new(role, m.content)
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ollama::{FunctionIn, ToolCallIn};

    fn message(role: &str, content: &str) -> Message {
        Message {
            role: role.into(),
            content: content.into(),
            images: vec![],
            tool_calls: vec![],
            tool_name: None,
            tool_call_id: None,
            thinking: None,
        }
    }

    #[test]
    fn results_naming_their_tool_answer_the_earliest_call_to_it() {
        let call = |name: &str, city: &str| ToolCallIn {
            id: None,
            function: FunctionIn { name: name.into(), arguments: serde_json::json!({ "city": city }) },
        };
        let asked =
            Message { tool_calls: vec![call("weather", "Paris"), call("weather", "Oslo")], ..message("assistant", "") };
        let first = Message { tool_name: Some("weather".into()), ..message("tool", "12") };
        let second = Message { tool_name: Some("weather".into()), ..message("tool", "3") };
        let out = messages(vec![message("user", "Weather?"), asked, first, second]).unwrap();
        let ids: Vec<&str> = out[1].tool_calls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), 2);
        assert_ne!(ids[0], ids[1]);
        assert_eq!([out[2].tool_call_id.as_deref(), out[3].tool_call_id.as_deref()], [Some(ids[0]), Some(ids[1])]);
        assert_eq!(out[1].tool_calls[0].arguments, r#"{"city":"Paris"}"#);
        let orphan = Message { tool_name: Some("weather".into()), ..message("tool", "12") };
        assert!(messages(vec![message("user", "Hi"), orphan]).is_err(), "a result with no call is refused");
        assert!(messages(vec![message("wizard", "Hi")]).is_err());
    }
}
