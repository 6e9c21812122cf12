//! OpenAI's Responses API: `POST /v1/responses` (whole and streamed with its typed events),
//! `GET` and `DELETE /v1/responses/{id}`. Input is text or items (messages, `function_call`,
//! `function_call_output`, `reasoning`); the answer is output items (the thought as a
//! `reasoning` item, the text as a `message`, each call as a `function_call`). An answer is kept
//! in the store (unless `store: false`) so a later request can continue it by
//! `previous_response_id`; the server keeps the newest ones only
//! ([`sirocco_store::MAX_KEPT_RESPONSES`]).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::future::BoxFuture;
use serde_json::{json, Value};
use sirocco_engine::{
    ChatMessage, Collected, Collector, GenerateRequest, GenerationEvent, GenerationStats, ReasoningEffort, Role,
    ToolCall,
};

use super::request::{self, ApiJson};
use super::sse;
use crate::wire::responses::{
    EventBody, IncompleteDetails, OutputItem, OutputText, ReasoningText, ResponseError, ResponseObject, ResponseUsage,
    ResponsesRequest, StreamEvent,
};
use crate::wire::{FunctionDefinition, ResponseFormat, SamplingFields, ToolDefinition};
use crate::{ApiError, Shared};

pub async fn handle(
    State(state): Shared,
    ApiJson(body, admission): ApiJson<ResponsesRequest>,
) -> Result<Response, ApiError> {
    if body.top_logprobs.is_some() {
        return Err(ApiError::invalid(
            "top_logprobs is not answered on /v1/responses yet; chat completions return logprobs.",
            Some("top_logprobs"),
        ));
    }
    let tool_list = body.tools.clone().unwrap_or_default();
    let tool_choice = body.tool_choice.clone().unwrap_or_else(|| Value::from("auto"));
    let tools = tools(body.tools, body.tool_choice, body.parallel_tool_calls)?;
    let added = input(body.input)?;
    let keep = body.store.unwrap_or(true);
    let mut messages = Vec::new();
    if let Some(instructions) = body.instructions.as_ref().filter(|i| !i.is_empty()) {
        messages.push(ChatMessage::new(Role::System, instructions.clone()));
    }
    if let Some(previous) = &body.previous_response_id {
        let Some(store) = &state.store else {
            return Err(ApiError::invalid(
                "This server keeps no responses, so previous_response_id cannot be followed; send the whole conversation as input.",
                Some("previous_response_id"),
            ));
        };
        let earlier = store.api_conversation(previous).await.map_err(store_error)?.ok_or_else(|| {
            ApiError::invalid(
                format!(
                    "Previous response with id '{previous}' not found (the server keeps its newest {} responses).",
                    sirocco_store::MAX_KEPT_RESPONSES
                ),
                Some("previous_response_id"),
            )
        })?;
        messages.extend(earlier);
    }
    messages.extend(added.iter().cloned());
    let mut messages = merge_leading_system(messages);

    let (served, lease) = state.lease(body.model.as_deref(), admission).await?;
    // Clients send the whole history each time: for a model that does not see, one image must
    // not make every later request fail. The model is told what was there.
    if !served.vision {
        request::images_as_notes(&mut messages, IMAGE_NOTE);
    }
    let fields = SamplingFields {
        temperature: body.temperature,
        top_p: body.top_p,
        max_tokens: body.max_output_tokens,
        ..SamplingFields::default()
    };
    let mut sampling = request::sampling(fields, &served)?;
    let format = body.text.and_then(|t| t.format);
    let text = match &format {
        Some(f) => json!({ "format": { "type": f.kind } }),
        None => json!({ "format": { "type": "text" } }),
    };
    if let Some(format) = format {
        let json_schema = format.schema.map(|schema| crate::wire::JsonSchemaFormat { schema: Some(schema) });
        request::response_format(Some(ResponseFormat { kind: format.kind, json_schema }), &mut sampling)
            .map_err(|e| ApiError { param: Some("text"), ..e })?;
        if tools.is_some() && sampling.json_schema.is_some() {
            return Err(ApiError::invalid("tools and a JSON text format cannot be used together.", Some("text")));
        }
    }
    let reasoning = body.reasoning.unwrap_or_default();
    let effort = match reasoning.effort.as_deref() {
        None => None,
        Some("none") => Some(ReasoningEffort::None),
        Some("minimal") => Some(ReasoningEffort::Minimal),
        Some("low") => Some(ReasoningEffort::Low),
        Some("medium") => Some(ReasoningEffort::Medium),
        Some("high" | "xhigh" | "max") => Some(ReasoningEffort::High),
        Some(other) => {
            return Err(ApiError::invalid(
                format!("reasoning.effort is none, minimal, low, medium, high or xhigh, not `{other}`."),
                Some("reasoning"),
            ))
        }
    };
    let request = GenerateRequest {
        tools,
        reasoning_effort: effort,
        separate_reasoning: true,
        thinking_budget: body.thinking_budget,
        ..GenerateRequest::new(messages, sampling)
    };
    let mut generation = lease.engine().generate(request)?;

    let response = ResponseObject {
        id: request::item_id("resp"),
        object: "response",
        created_at: request::now(),
        status: "in_progress",
        error: None,
        incomplete_details: None,
        instructions: body.instructions,
        max_output_tokens: body.max_output_tokens,
        model: served.id.clone(),
        output: Vec::new(),
        parallel_tool_calls: body.parallel_tool_calls.unwrap_or(true),
        previous_response_id: body.previous_response_id.clone(),
        reasoning,
        store: keep && state.store.is_some(),
        temperature: body.temperature,
        top_p: body.top_p,
        text,
        tool_choice,
        tools: tool_list,
        truncation: "disabled",
        usage: None,
        metadata: body.metadata.unwrap_or_else(|| json!({})),
    };
    let keeper = Keeper { store: state.store.clone().filter(|_| keep), previous: body.previous_response_id, added };

    if body.stream {
        let mut items = Items::new(response, keeper);
        let first = items.opening().into_iter().map(named).collect();
        let sse = sse::respond_events(generation, first, move |e| items.next(e), None, "input", lease).await?;
        return Ok(sse.into_response());
    }

    let (answer, stats) = request::answer(&mut generation, "input", |_| {}).await?;
    let mut response = response;
    response.output = items(&answer);
    let response = finished(response, &stats);
    keeper.keep(&response, message(answer)).await;
    Ok(Json(response).into_response())
}

/// `GET /v1/responses/{id}`: a kept response as it was answered.
pub async fn get(State(state): Shared, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let store = state.store.as_ref().ok_or_else(|| not_found(&id))?;
    store.api_response(&id).await.map_err(store_error)?.map(Json).ok_or_else(|| not_found(&id))
}

/// `DELETE /v1/responses/{id}`: forgets a kept response.
pub async fn delete(State(state): Shared, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let store = state.store.as_ref().ok_or_else(|| not_found(&id))?;
    if !store.delete_api_response(&id).await.map_err(store_error)? {
        return Err(not_found(&id));
    }
    Ok(Json(json!({ "id": id, "object": "response.deleted", "deleted": true })))
}

fn not_found(id: &str) -> ApiError {
    ApiError {
        status: axum::http::StatusCode::NOT_FOUND,
        code: Some("not_found"),
        ..ApiError::invalid(format!("No response with id '{id}' is kept."), Some("response_id"))
    }
}

fn store_error(e: sirocco_store::StoreError) -> ApiError {
    ApiError { status: axum::http::StatusCode::INTERNAL_SERVER_ERROR, ..ApiError::unavailable(e.to_string()) }
}

/// The response as it ended: its status, why it is incomplete, its usage.
fn finished(mut response: ResponseObject, stats: &GenerationStats) -> ResponseObject {
    use sirocco_engine::FinishReason;
    let cut = matches!(stats.finish_reason, FinishReason::Length | FinishReason::ContextFull);
    response.status = if cut { "incomplete" } else { "completed" };
    response.incomplete_details = cut.then_some(IncompleteDetails { reason: "max_output_tokens" });
    response.usage = Some(ResponseUsage::from_stats(stats));
    response
}

/// Keeps an answer for `previous_response_id`, when asked to and a store is there.
struct Keeper {
    store: Option<sirocco_store::Store>,
    previous: Option<String>,
    /// The messages the request added (after those of `previous`).
    added: Vec<ChatMessage>,
}

impl Keeper {
    async fn keep(&self, response: &ResponseObject, answer: ChatMessage) {
        let Some(store) = &self.store else { return };
        let mut messages = self.added.clone();
        messages.push(answer);
        let value = serde_json::to_value(response).expect("responses serialise");
        if let Err(e) = store.keep_api_response(&response.id, self.previous.as_deref(), &messages, &value).await {
            tracing::warn!(id = response.id, "could not keep the response: {e}");
        }
    }
}

/// The output items of an answer: the thought, the message, the calls (those that are there).
fn items(answer: &Collected) -> Vec<OutputItem> {
    let mut items = Vec::new();
    if !answer.reasoning.is_empty() {
        items.push(reasoning_item(request::item_id("rs"), answer.reasoning.clone()));
    }
    if !answer.text.is_empty() || (answer.tool_calls.is_empty() && answer.reasoning.is_empty()) {
        items.push(message_item(request::item_id("msg"), answer.text.clone(), "completed"));
    }
    items.extend(answer.tool_calls.iter().map(|c| call_item(c, "completed")));
    items
}

/// The answer as the conversation keeps it.
fn message(answer: Collected) -> ChatMessage {
    ChatMessage {
        tool_calls: answer.tool_calls,
        reasoning_content: (!answer.reasoning.is_empty()).then_some(answer.reasoning),
        ..ChatMessage::new(Role::Assistant, answer.text)
    }
}

fn reasoning_item(id: String, text: String) -> OutputItem {
    let encrypted_content = (!text.is_empty()).then(|| encode_thought(&text));
    let content = if text.is_empty() { Vec::new() } else { vec![ReasoningText { kind: "reasoning_text", text }] };
    OutputItem::Reasoning { id, summary: Vec::new(), content, encrypted_content }
}

fn message_item(id: String, text: String, status: &'static str) -> OutputItem {
    let content = if status == "completed" { vec![OutputText::new(text)] } else { Vec::new() };
    OutputItem::Message { id, status, role: "assistant", content }
}

fn call_item(call: &ToolCall, status: &'static str) -> OutputItem {
    OutputItem::FunctionCall {
        id: format!("fc_{}", call.id.strip_prefix("call_").unwrap_or(&call.id)),
        call_id: call.id.clone(),
        name: call.name.clone(),
        arguments: if status == "completed" { call.arguments.clone() } else { String::new() },
        status,
    }
}

fn named(event: StreamEvent) -> axum::response::sse::Event {
    sse::named(event.kind, &event)
}

/// The item being streamed now.
struct Open {
    index: usize,
    id: String,
    thought: bool,
}

/// The streamed answer as the Responses API's events: each item added when its first piece
/// arrives (the thought, the text, each call), done when the next begins or the answer ends;
/// the response kept before `response.completed` is sent, so a follow-up can name it at once.
struct Items {
    response: ResponseObject,
    keeper: std::sync::Arc<Keeper>,
    /// The answer so far (the one collector), for each item's full text when it is done.
    answer: Collector,
    open: Option<Open>,
    sequence: u64,
}

impl Items {
    fn new(response: ResponseObject, keeper: Keeper) -> Self {
        Self { response, keeper: std::sync::Arc::new(keeper), answer: Collector::default(), open: None, sequence: 0 }
    }

    fn event(&mut self, kind: &'static str, body: EventBody) -> StreamEvent {
        let sequence_number = self.sequence;
        self.sequence += 1;
        StreamEvent { kind, sequence_number, body }
    }

    fn opening(&mut self) -> Vec<StreamEvent> {
        let created = self.event("response.created", EventBody::Response { response: Box::new(self.response.clone()) });
        let progress =
            self.event("response.in_progress", EventBody::Response { response: Box::new(self.response.clone()) });
        vec![created, progress]
    }

    fn close(&mut self, out: &mut Vec<StreamEvent>) {
        let Some(open) = self.open.take() else { return };
        let (index, item_id) = (open.index, open.id.clone());
        let item = if open.thought {
            let text = self.answer.collected().reasoning.clone();
            let body = EventBody::TextDone {
                item_id,
                output_index: index,
                content_index: 0,
                text: text.clone(),
                logprobs: None,
            };
            out.push(self.event("response.reasoning_text.done", body));
            reasoning_item(open.id, text)
        } else {
            let text = self.answer.collected().text.clone();
            let body = EventBody::TextDone {
                item_id: item_id.clone(),
                output_index: index,
                content_index: 0,
                text: text.clone(),
                logprobs: Some(Vec::new()),
            };
            out.push(self.event("response.output_text.done", body));
            let part = serde_json::to_value(OutputText::new(text.clone())).expect("parts serialise");
            let body = EventBody::Part { item_id, output_index: index, content_index: 0, part };
            out.push(self.event("response.content_part.done", body));
            message_item(open.id, text, "completed")
        };
        self.response.output.push(item.clone());
        out.push(self.event("response.output_item.done", EventBody::Item { output_index: index, item }));
    }

    /// Opens a thought (`thought`) or the message unless it is open; returns its id and index.
    fn open(&mut self, thought: bool, out: &mut Vec<StreamEvent>) -> (String, usize) {
        if let Some(open) = self.open.as_ref().filter(|o| o.thought == thought) {
            return (open.id.clone(), open.index);
        }
        self.close(out);
        let index = self.response.output.len();
        let id = request::item_id(if thought { "rs" } else { "msg" });
        let item = if thought {
            reasoning_item(id.clone(), String::new())
        } else {
            message_item(id.clone(), String::new(), "in_progress")
        };
        out.push(self.event("response.output_item.added", EventBody::Item { output_index: index, item }));
        let part = if thought {
            json!({ "type": "reasoning_text", "text": "" })
        } else {
            serde_json::to_value(OutputText::new(String::new())).expect("parts serialise")
        };
        let body = EventBody::Part { item_id: id.clone(), output_index: index, content_index: 0, part };
        out.push(self.event("response.content_part.added", body));
        self.open = Some(Open { index, id: id.clone(), thought });
        (id, index)
    }

    fn next(&mut self, event: GenerationEvent) -> BoxFuture<'static, Vec<axum::response::sse::Event>> {
        let mut out = Vec::new();
        let mut keep = None;
        self.answer.add(&event);
        match event {
            GenerationEvent::Reasoning { text } => {
                let (item_id, output_index) = self.open(true, &mut out);
                let body = EventBody::Delta { item_id, output_index, content_index: 0, delta: text, logprobs: None };
                out.push(self.event("response.reasoning_text.delta", body));
            }
            GenerationEvent::Text { text, .. } if text.is_empty() => {}
            GenerationEvent::Text { text, .. } => {
                let (item_id, output_index) = self.open(false, &mut out);
                let body = EventBody::Delta {
                    item_id,
                    output_index,
                    content_index: 0,
                    delta: text,
                    logprobs: Some(Vec::new()),
                };
                out.push(self.event("response.output_text.delta", body));
            }
            GenerationEvent::ToolCalls { calls } => {
                self.close(&mut out);
                for call in calls {
                    let output_index = self.response.output.len();
                    let item = call_item(&call, "in_progress");
                    let OutputItem::FunctionCall { id: item_id, .. } = &item else { unreachable!() };
                    let item_id = item_id.clone();
                    out.push(self.event("response.output_item.added", EventBody::Item { output_index, item }));
                    let delta = call.arguments.clone();
                    let body = EventBody::ArgumentsDelta { item_id: item_id.clone(), output_index, delta };
                    out.push(self.event("response.function_call_arguments.delta", body));
                    let body = EventBody::ArgumentsDone {
                        item_id,
                        output_index,
                        name: call.name.clone(),
                        arguments: call.arguments.clone(),
                    };
                    out.push(self.event("response.function_call_arguments.done", body));
                    let item = call_item(&call, "completed");
                    self.response.output.push(item.clone());
                    out.push(self.event("response.output_item.done", EventBody::Item { output_index, item }));
                }
            }
            GenerationEvent::Done { stats } => {
                self.close(&mut out);
                let response = finished(self.response.clone(), &stats);
                let kind = if response.status == "completed" { "response.completed" } else { "response.incomplete" };
                let answer = message(std::mem::take(&mut self.answer).finish());
                keep = Some((response.clone(), answer));
                out.push(self.event(kind, EventBody::Response { response: Box::new(response) }));
            }
            GenerationEvent::Error { message, overflow, .. } => {
                self.close(&mut out);
                let mut response = self.response.clone();
                response.status = "failed";
                let code = if overflow { crate::error::CONTEXT_LENGTH_EXCEEDED } else { "server_error" };
                response.error = Some(ResponseError { code, message });
                out.push(self.event("response.failed", EventBody::Response { response: Box::new(response) }));
            }
        }
        let events: Vec<_> = out.into_iter().map(named).collect();
        let keeper = self.keeper.clone();
        Box::pin(async move {
            if let Some((response, answer)) = keep {
                keeper.keep(&response, answer).await;
            }
            events
        })
    }
}

/// Function tools (`{"type": "function", "name", "description", "parameters"}`) as chat
/// completions' (checked there); `tool_choice` likewise.
fn tools(
    tools: Option<Vec<Value>>,
    choice: Option<Value>,
    parallel: Option<bool>,
) -> Result<Option<sirocco_engine::ToolSpec>, ApiError> {
    let mut definitions = Vec::new();
    let mut queue: std::collections::VecDeque<Value> = tools.unwrap_or_default().into();
    while let Some(tool) = queue.pop_front() {
        let kind = tool.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "function" => {}
            // Codex groups each MCP server's tools under a namespace: they are functions too.
            "namespace" => {
                queue.extend(tool.get("tools").and_then(Value::as_array).into_iter().flatten().cloned());
                continue;
            }
            // Hosted tools (web search, image generation, custom grammars…) run at OpenAI: a
            // local model is not offered them, and the request goes on without (as
            // llama.cpp's server does; Codex sends web search by default).
            _ => {
                tracing::warn!(kind, "a hosted tool is not offered to a local model");
                continue;
            }
        }
        let name = tool.get("name").and_then(Value::as_str).ok_or_else(|| {
            ApiError::invalid("A function tool needs a `name` (beside `type`, not under `function`).", Some("tools"))
        })?;
        definitions.push(ToolDefinition {
            kind: "function".into(),
            function: FunctionDefinition {
                name: name.to_owned(),
                description: tool.get("description").and_then(Value::as_str).map(str::to_owned),
                parameters: tool.get("parameters").cloned(),
            },
        });
    }
    let choice = match choice {
        Some(Value::Object(c)) if c.get("type").and_then(Value::as_str) == Some("function") => {
            let name = c.get("name").cloned().unwrap_or(Value::Null);
            Some(json!({ "type": "function", "function": { "name": name } }))
        }
        other => other,
    };
    request::tools(Some(definitions), choice, parallel)
}

/// The request's input as chat messages: a string is one user message; items are messages
/// (text parts only), `function_call`s (joined to the assistant message before them),
/// `function_call_output`s (tool messages) and `reasoning` (the next assistant message's thought).
fn input(input: Value) -> Result<Vec<ChatMessage>, ApiError> {
    let bad = |message: String| ApiError::invalid(message, Some("input"));
    let items = match input {
        Value::String(text) => return Ok(vec![ChatMessage::new(Role::User, text)]),
        Value::Array(items) => items,
        _ => return Err(bad("input is a string or a list of items.".into())),
    };
    if items.is_empty() {
        return Err(bad("input must not be empty.".into()));
    }
    let mut out: Vec<ChatMessage> = Vec::new();
    let mut thought: Option<String> = None;
    for (i, item) in items.into_iter().enumerate() {
        let field = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_owned);
        let kind = field("type").unwrap_or_else(|| "message".into());
        match kind.as_str() {
            "message" => {
                let role = match field("role").as_deref() {
                    Some("user") => Role::User,
                    Some("assistant") => Role::Assistant,
                    Some("system" | "developer") => Role::System,
                    other => {
                        return Err(bad(format!(
                            "input[{i}]: a message's role is user, assistant, system or developer, not {other:?}."
                        )))
                    }
                };
                let (text, images) = match role {
                    Role::User => content_parts(item.get("content"), i)?,
                    _ => (content_text(item.get("content"), i)?, Vec::new()),
                };
                let mut message = ChatMessage { images, ..ChatMessage::new(role, text) };
                if role == Role::Assistant {
                    message.reasoning_content = thought.take();
                }
                out.push(message);
            }
            "function_call" => {
                let (Some(call_id), Some(name)) = (field("call_id"), field("name")) else {
                    return Err(bad(format!("input[{i}]: a function_call needs `call_id` and `name`.")));
                };
                let call = ToolCall { id: call_id, name, arguments: field("arguments").unwrap_or_else(|| "{}".into()) };
                match out.last_mut() {
                    Some(last) if last.role == Role::Assistant && thought.is_none() => last.tool_calls.push(call),
                    _ => out.push(ChatMessage {
                        tool_calls: vec![call],
                        reasoning_content: thought.take(),
                        ..ChatMessage::new(Role::Assistant, "")
                    }),
                }
            }
            "function_call_output" => {
                let Some(call_id) = field("call_id") else {
                    return Err(bad(format!("input[{i}]: a function_call_output needs the `call_id` it answers.")));
                };
                let output = match item.get("output") {
                    Some(Value::String(s)) => s.clone(),
                    other => content_text(other, i)?,
                };
                out.push(ChatMessage { tool_call_id: Some(call_id), ..ChatMessage::new(Role::Tool, output) });
            }
            "reasoning" => {
                let mut text = String::new();
                for part in item.get("content").and_then(Value::as_array).into_iter().flatten() {
                    text.push_str(part.get("text").and_then(Value::as_str).unwrap_or(""));
                }
                // Codex sends a thought back as the `encrypted_content` it was given (this
                // server's is the thought itself, base64-encoded), without its text.
                if text.is_empty() {
                    if let Some(thought) = field("encrypted_content").as_deref().and_then(decode_thought) {
                        text = thought;
                    }
                }
                if !text.is_empty() {
                    thought.get_or_insert_with(String::new).push_str(&text);
                }
            }
            // A freeform tool's call and output (Codex's apply_patch): as a function's.
            "custom_tool_call" => {
                let (Some(call_id), Some(name)) = (field("call_id"), field("name")) else {
                    return Err(bad(format!("input[{i}]: a custom_tool_call needs `call_id` and `name`.")));
                };
                let arguments = serde_json::json!({ "input": field("input").unwrap_or_default() }).to_string();
                out.push(ChatMessage {
                    tool_calls: vec![ToolCall { id: call_id, name, arguments }],
                    reasoning_content: thought.take(),
                    ..ChatMessage::new(Role::Assistant, "")
                });
            }
            "custom_tool_call_output" => {
                let Some(call_id) = field("call_id") else {
                    return Err(bad(format!("input[{i}]: a custom_tool_call_output needs the `call_id` it answers.")));
                };
                let output = match item.get("output") {
                    Some(Value::String(s)) => s.clone(),
                    other => content_text(other, i)?,
                };
                out.push(ChatMessage { tool_call_id: Some(call_id), ..ChatMessage::new(Role::Tool, output) });
            }
            "item_reference" => {
                return Err(bad(format!(
                    "input[{i}]: item_reference names an item this server does not keep; send the item itself."
                )))
            }
            // Records of hosted tools' calls (web search, image generation…) from a conversation
            // held elsewhere: nothing a local model can read back.
            other if other.ends_with("_call") || other.ends_with("_call_output") => {
                tracing::warn!(kind = other, "a hosted tool's call record is left out");
            }
            other => {
                return Err(bad(format!(
                    "input[{i}]: items of type `{other}` are not supported (message, function_call, \
                     function_call_output, custom_tool_call, reasoning and hosted tools' call records are)."
                )))
            }
        }
    }
    Ok(out)
}

/// A note in place of an image the model is not shown.
const IMAGE_NOTE: &str = "[An image was attached here; this model reads text only.]";

/// The text of a message that is not the user's: its images named in it.
fn content_text(content: Option<&Value>, i: usize) -> Result<String, ApiError> {
    let (text, images) = content_parts(content, i)?;
    Ok(IMAGE_NOTE.repeat(images.len()) + &text)
}

/// A message's content: a string, or text parts (`input_text`, `output_text`, `refusal`) and
/// images (`input_image` with a data URL); files are named in the text.
fn content_parts(content: Option<&Value>, i: usize) -> Result<(String, Vec<sirocco_engine::ImageInput>), ApiError> {
    let mut images = Vec::new();
    match content {
        None | Some(Value::Null) => Ok((String::new(), images)),
        Some(Value::String(s)) => Ok((s.clone(), images)),
        Some(Value::Array(parts)) => {
            let mut text = String::new();
            for part in parts {
                let kind = part.get("type").and_then(Value::as_str).unwrap_or("");
                let piece = match kind {
                    "input_text" | "output_text" | "text" => part.get("text").and_then(Value::as_str),
                    "refusal" => part.get("refusal").and_then(Value::as_str),
                    "input_image" => match part.get("image_url").and_then(Value::as_str) {
                        Some(url) => {
                            images.push(request::image(url, "input")?);
                            None
                        }
                        // An uploaded file's id: this server keeps no files.
                        None => Some("[An image was attached here by a file id, which this server does not keep.]"),
                    },
                    "input_file" | "input_audio" => Some("[A file was attached here; this model reads text only.]"),
                    _ => {
                        return Err(ApiError::invalid(
                            format!("input[{i}]: content parts of type `{kind}` are not supported; send text."),
                            Some("input"),
                        ))
                    }
                };
                text.push_str(piece.unwrap_or(""));
            }
            Ok((text, images))
        }
        Some(_) => {
            Err(ApiError::invalid(format!("input[{i}]: content is a string or a list of parts."), Some("input")))
        }
    }
}

/// A thought as `encrypted_content` carries it (base64 of its text).
fn encode_thought(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn decode_thought(encoded: &str) -> Option<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    String::from_utf8(bytes).ok()
}

/// Leading system messages (instructions, then the developer items Codex sends) as one: most
/// templates take a single system message, first.
fn merge_leading_system(messages: Vec<ChatMessage>) -> Vec<ChatMessage> {
    let leading = messages.iter().take_while(|m| m.role == Role::System).count();
    if leading < 2 {
        return messages;
    }
    let mut rest = messages.into_iter();
    let system: Vec<String> = rest.by_ref().take(leading).map(|m| m.content).filter(|c| !c.trim().is_empty()).collect();
    std::iter::once(ChatMessage::new(Role::System, system.join("\n\n"))).chain(rest).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codex_items_read_as_the_conversation_they_are() {
        let thought = encode_thought("Let me see.");
        let items = json!([
            { "type": "message", "role": "developer", "content": "Be brief." },
            { "type": "message", "role": "user", "content": [{ "type": "input_text", "text": "Patch it." }] },
            { "type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": thought },
            { "type": "custom_tool_call", "call_id": "call_1", "name": "apply_patch", "input": "*** Begin Patch" },
            { "type": "custom_tool_call_output", "call_id": "call_1", "output": "Done." },
            { "type": "web_search_call", "id": "ws_1", "status": "completed" },
            { "type": "message", "role": "assistant", "content": [{ "type": "output_text", "text": "Patched." }] },
        ]);
        let messages = merge_leading_system(
            std::iter::once(ChatMessage::new(Role::System, "You are Codex.")).chain(input(items).unwrap()).collect(),
        );
        let roles: Vec<Role> = messages.iter().map(|m| m.role).collect();
        assert_eq!(roles, [Role::System, Role::User, Role::Assistant, Role::Tool, Role::Assistant]);
        assert_eq!(messages[0].content, "You are Codex.\n\nBe brief.");
        assert_eq!(messages[2].reasoning_content.as_deref(), Some("Let me see."), "the opaque thought is read back");
        assert_eq!(messages[2].tool_calls[0].arguments, r#"{"input":"*** Begin Patch"}"#);
        assert_eq!(messages[3].tool_call_id.as_deref(), Some("call_1"));
        let refused = input(json!([{ "type": "item_reference", "id": "msg_1" }])).unwrap_err();
        assert!(refused.message.contains("item_reference"), "{}", refused.message);
        let odd = input(json!([{ "type": "something_else" }])).unwrap_err();
        assert!(odd.message.contains("something_else"), "{}", odd.message);
    }

    #[test]
    fn hosted_tools_are_left_out_and_namespaced_ones_are_functions() {
        let spec = tools(
            Some(vec![
                json!({ "type": "web_search" }),
                json!({ "type": "namespace", "name": "mcp__fs", "tools": [
                    { "type": "function", "name": "read_file", "parameters": { "type": "object" } }
                ] }),
            ]),
            None,
            None,
        )
        .unwrap()
        .expect("a tool is offered");
        let names: Vec<&str> = spec.tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["read_file"]);
        assert!(tools(Some(vec![json!({ "type": "web_search" })]), None, None).unwrap().is_none());
    }
}
