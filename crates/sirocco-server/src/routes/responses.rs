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
use sirocco_engine::{ChatMessage, GenerateRequest, GenerationEvent, GenerationStats, Role, ToolCall};

use super::request::{self, ApiJson};
use super::sse;
use crate::wire::responses::{
    EventBody, IncompleteDetails, OutputItem, OutputText, ReasoningText, ResponseError, ResponseObject, ResponseUsage,
    ResponsesRequest, StreamEvent,
};
use crate::wire::{FunctionDefinition, ResponseFormat, SamplingFields, ToolDefinition};
use crate::{ApiError, Shared};

pub async fn handle(State(state): Shared, ApiJson(body): ApiJson<ResponsesRequest>) -> Result<Response, ApiError> {
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

    let (served, lease) = state.lease(body.model.as_deref()).await?;
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
    let request = GenerateRequest {
        tools,
        reasoning_effort: reasoning.effort,
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

    let mut answer = Answer::default();
    while let Some(event) = generation.events.recv().await {
        match event {
            GenerationEvent::Reasoning { text } => answer.reasoning.push_str(&text),
            GenerationEvent::Text { text, .. } => answer.text.push_str(&text),
            GenerationEvent::ToolCalls { calls } => answer.calls.extend(calls),
            GenerationEvent::Error { message, busy } => return Err(ApiError::from_generation(message, busy, "input")),
            GenerationEvent::Done { stats } => {
                let mut response = response;
                response.output = answer.items();
                let response = finished(response, &stats);
                keeper.keep(&response, answer.message()).await;
                return Ok(Json(response).into_response());
            }
        }
    }
    Err(ApiError::unavailable("The engine stopped before the answer was finished."))
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

/// The answer as it arrives: its thought, text and calls.
#[derive(Default)]
struct Answer {
    reasoning: String,
    text: String,
    calls: Vec<ToolCall>,
}

impl Answer {
    /// The output items: the thought, the message, the calls (those that are there).
    fn items(&self) -> Vec<OutputItem> {
        let mut items = Vec::new();
        if !self.reasoning.is_empty() {
            items.push(reasoning_item(request::item_id("rs"), self.reasoning.clone()));
        }
        if !self.text.is_empty() || (self.calls.is_empty() && self.reasoning.is_empty()) {
            items.push(message_item(request::item_id("msg"), self.text.clone(), "completed"));
        }
        items.extend(self.calls.iter().map(|c| call_item(c, "completed")));
        items
    }

    /// The answer as the conversation keeps it.
    fn message(self) -> ChatMessage {
        ChatMessage {
            tool_calls: self.calls,
            reasoning_content: (!self.reasoning.is_empty()).then_some(self.reasoning),
            ..ChatMessage::new(Role::Assistant, self.text)
        }
    }
}

fn reasoning_item(id: String, text: String) -> OutputItem {
    let content = if text.is_empty() { Vec::new() } else { vec![ReasoningText { kind: "reasoning_text", text }] };
    OutputItem::Reasoning { id, summary: Vec::new(), content }
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
    answer: Answer,
    open: Option<Open>,
    sequence: u64,
}

impl Items {
    fn new(response: ResponseObject, keeper: Keeper) -> Self {
        Self { response, keeper: std::sync::Arc::new(keeper), answer: Answer::default(), open: None, sequence: 0 }
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
            let text = self.answer.reasoning.clone();
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
            let text = self.answer.text.clone();
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
        if !thought {
            let part = serde_json::to_value(OutputText::new(String::new())).expect("parts serialise");
            let body = EventBody::Part { item_id: id.clone(), output_index: index, content_index: 0, part };
            out.push(self.event("response.content_part.added", body));
        }
        self.open = Some(Open { index, id: id.clone(), thought });
        (id, index)
    }

    fn next(&mut self, event: GenerationEvent) -> BoxFuture<'static, Vec<axum::response::sse::Event>> {
        let mut out = Vec::new();
        let mut keep = None;
        match event {
            GenerationEvent::Reasoning { text } => {
                let (item_id, output_index) = self.open(true, &mut out);
                self.answer.reasoning.push_str(&text);
                let body = EventBody::Delta { item_id, output_index, content_index: 0, delta: text, logprobs: None };
                out.push(self.event("response.reasoning_text.delta", body));
            }
            GenerationEvent::Text { text, .. } if text.is_empty() => {}
            GenerationEvent::Text { text, .. } => {
                let (item_id, output_index) = self.open(false, &mut out);
                self.answer.text.push_str(&text);
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
                    self.answer.calls.push(call);
                }
            }
            GenerationEvent::Done { stats } => {
                self.close(&mut out);
                let response = finished(self.response.clone(), &stats);
                let kind = if response.status == "completed" { "response.completed" } else { "response.incomplete" };
                let answer = std::mem::take(&mut self.answer).message();
                keep = Some((response.clone(), answer));
                out.push(self.event(kind, EventBody::Response { response: Box::new(response) }));
            }
            GenerationEvent::Error { message, .. } => {
                self.close(&mut out);
                let mut response = self.response.clone();
                response.status = "failed";
                response.error = Some(ResponseError { code: "server_error", message });
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
    for tool in tools.unwrap_or_default() {
        let kind = tool.get("type").and_then(Value::as_str).unwrap_or("");
        if kind != "function" {
            return Err(ApiError::invalid(
                format!(
                    "Tools of type `{kind}` are not supported here (hosted tools need OpenAI); use `function` tools."
                ),
                Some("tools"),
            ));
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
                let text = content_text(item.get("content"), i)?;
                let mut message = ChatMessage::new(role, text);
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
                if !text.is_empty() {
                    thought.get_or_insert_with(String::new).push_str(&text);
                }
            }
            other => {
                return Err(bad(format!(
                    "input[{i}]: items of type `{other}` are not supported (message, function_call, \
                     function_call_output and reasoning are)."
                )))
            }
        }
    }
    Ok(out)
}

/// A message's content: a string, or text parts (`input_text`, `output_text`, `refusal`).
fn content_text(content: Option<&Value>, i: usize) -> Result<String, ApiError> {
    match content {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(parts)) => {
            let mut text = String::new();
            for part in parts {
                let kind = part.get("type").and_then(Value::as_str).unwrap_or("");
                let piece = match kind {
                    "input_text" | "output_text" | "text" => part.get("text"),
                    "refusal" => part.get("refusal"),
                    _ => {
                        return Err(ApiError::invalid(
                            format!("input[{i}]: content parts of type `{kind}` are not supported; send text."),
                            Some("input"),
                        ))
                    }
                };
                text.push_str(piece.and_then(Value::as_str).unwrap_or(""));
            }
            Ok(text)
        }
        Some(_) => {
            Err(ApiError::invalid(format!("input[{i}]: content is a string or a list of parts."), Some("input")))
        }
    }
}
