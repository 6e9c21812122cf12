//! Anthropic's Messages API: `POST /v1/messages` (whole and streamed, with tools and thinking
//! blocks) and `POST /v1/messages/count_tokens`, for Anthropic's clients (the `anthropic` SDKs,
//! Claude Code pointed at `ANTHROPIC_BASE_URL`). Requests become the same engine requests as
//! chat completions; errors are in Anthropic's shape ([`AnthropicError`]).

use axum::extract::{FromRequest, Request, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sirocco_engine::{ChatMessage, GenerateRequest, GenerationEvent, ReasoningEffort, Role, ToolCall};

use super::request::{self, Admission, ApiJson};
use super::sse;
use crate::wire::anthropic::{
    BlockDelta, ContentBlock, ContentBlockParam, CountTokensRequest, ErrorBody, ImageSource, InputMessage, Message,
    MessageContent, MessageDeltaBody, MessageUsage, MessagesRequest, StreamEvent, SystemPrompt, ThinkingDisplay,
    ThinkingParam, TokenCount, ToolChoiceParam, ToolParam,
};
use crate::wire::{FunctionDefinition, SamplingFields, ToolDefinition};
use crate::{AnthropicError, ApiError, Shared};

/// Whether `path` is the Anthropic API's (its errors take Anthropic's shape).
pub fn is_anthropic(path: &str) -> bool {
    path == "/v1/messages" || path.starts_with("/v1/messages/")
}

/// A JSON body whose rejections are Anthropic-style errors.
pub struct AnthropicJson<T>(pub T, pub Admission);

impl<T: DeserializeOwned> FromRequest<std::sync::Arc<crate::ServerState>> for AnthropicJson<T> {
    type Rejection = AnthropicError;

    async fn from_request(req: Request, state: &std::sync::Arc<crate::ServerState>) -> Result<Self, Self::Rejection> {
        ApiJson::<T>::from_request(req, state).await.map(|ApiJson(v, a)| Self(v, a)).map_err(AnthropicError)
    }
}

pub async fn handle(
    State(state): Shared,
    AnthropicJson(body, admission): AnthropicJson<MessagesRequest>,
) -> Result<Response, AnthropicError> {
    let tools = tools(body.tools, body.tool_choice)?;
    let mut messages = messages(body.system, body.messages)?;
    let Thinking { effort, budget, omitted } = thinking(body.thinking);
    let output = body.output_config.unwrap_or_default();
    let effort = match output.effort.as_deref() {
        None => effort,
        Some("low") => Some(ReasoningEffort::Low),
        Some("medium") => Some(ReasoningEffort::Medium),
        Some("high" | "xhigh" | "max") => Some(ReasoningEffort::High),
        Some(other) => {
            return Err(ApiError::invalid(
                format!("output_config.effort is low, medium, high, xhigh or max, not `{other}`."),
                Some("output_config"),
            )
            .into())
        }
    };
    if body.max_tokens == 0 {
        return Err(ApiError::invalid("max_tokens must be at least 1.", Some("max_tokens")).into());
    }
    if body.temperature.is_some_and(|t| !(0.0..=1.0).contains(&t)) {
        return Err(ApiError::invalid("temperature must be between 0 and 1.", Some("temperature")).into());
    }
    let stops = body.stop_sequences.unwrap_or_default();
    if stops.len() > 16 || stops.iter().any(|s| s.is_empty() || s.len() > 512) {
        return Err(
            ApiError::invalid("stop_sequences takes up to 16 non-empty strings.", Some("stop_sequences")).into()
        );
    }
    let (served, lease) = state.lease(Some(&body.model), admission).await?;
    if !served.vision {
        request::images_as_notes(&mut messages, NOT_TEXT);
    }
    let fields = SamplingFields {
        temperature: body.temperature,
        top_p: body.top_p,
        top_k: body.top_k,
        max_tokens: Some(body.max_tokens),
        ..SamplingFields::default()
    };
    let mut sampling = request::sampling(fields, &served)?;
    sampling.stop = stops;
    if let Some(format) = output.format {
        if format.kind != "json_schema" {
            let message = format!("output_config.format.type is json_schema, not `{}`.", format.kind);
            return Err(ApiError::invalid(message, Some("output_config")).into());
        }
        let Some(schema) = format.schema.filter(Value::is_object) else {
            return Err(ApiError::invalid(
                "output_config.format.schema must be a JSON schema object.",
                Some("output_config"),
            )
            .into());
        };
        if tools.is_some() {
            return Err(ApiError::invalid(
                "tools and an output format cannot be used together.",
                Some("output_config"),
            )
            .into());
        }
        sampling.json_schema = Some(schema);
    }
    let request = GenerateRequest {
        tools,
        reasoning_effort: effort,
        separate_reasoning: true,
        thinking_budget: budget,
        ..GenerateRequest::new(messages, sampling)
    };
    let mut generation = lease.engine().generate(request).map_err(ApiError::from)?;
    let id = request::item_id("msg");
    let model = served.id.clone();

    if body.stream {
        let start = Message {
            content: Vec::new(),
            stop_reason: None,
            stop_sequence: None,
            usage: MessageUsage::default(),
            ..message(id, model)
        };
        let event = |e: StreamEvent| sse::named(e.name(), &e);
        let first = vec![event(StreamEvent::MessageStart { message: start }), event(StreamEvent::Ping)];
        let mut blocks = Blocks { omitted, ..Blocks::default() };
        let sse = sse::respond_events(
            generation,
            first,
            move |e| -> futures_util::future::BoxFuture<'static, Vec<_>> {
                Box::pin(std::future::ready(blocks.next(e).into_iter().map(event).collect()))
            },
            None,
            "messages",
            lease,
        )
        .await?;
        return Ok(sse.into_response());
    }

    // Anthropic's blocks keep the events' order (a thought, the text, the tool uses).
    let mut content: Vec<ContentBlock> = Vec::new();
    let (_, stats) = request::answer(&mut generation, "messages", |event| match event {
        GenerationEvent::Reasoning { text } => {
            let text = if omitted { "" } else { text.as_str() };
            match content.last_mut() {
                Some(ContentBlock::Thinking { thinking, .. }) => thinking.push_str(text),
                _ => content.push(ContentBlock::Thinking { thinking: text.to_string(), signature: String::new() }),
            }
        }
        GenerationEvent::Text { text, .. } => match content.last_mut() {
            Some(ContentBlock::Text { text: t }) => t.push_str(text),
            _ if text.is_empty() => {}
            _ => content.push(ContentBlock::Text { text: text.clone() }),
        },
        GenerationEvent::ToolCalls { calls } => content.extend(calls.iter().cloned().map(tool_use)),
        GenerationEvent::Done { .. } | GenerationEvent::Error { .. } => {}
    })
    .await?;
    Ok(Json(Message {
        content,
        stop_reason: Some(stop_reason(&stats)),
        stop_sequence: stats.stop_sequence.clone(),
        usage: MessageUsage::from_stats(&stats),
        ..message(id, model)
    })
    .into_response())
}

/// The prompt's tokens, as the model's template writes the conversation and tools.
pub async fn count_tokens(
    State(state): Shared,
    AnthropicJson(body, _): AnthropicJson<CountTokensRequest>,
) -> Result<Json<TokenCount>, AnthropicError> {
    let tools = tools(body.tools, body.tool_choice)?;
    let mut messages = messages(body.system, body.messages)?;
    let model = state.model_lease(Some(&body.model)).await?;
    if model.model().projector.is_none() {
        request::images_as_notes(&mut messages, NOT_TEXT);
    }
    let tokens = model.engine().prompt_tokens(messages, None, tools).await.map_err(ApiError::from)?;
    Ok(Json(TokenCount { input_tokens: tokens.len() }))
}

fn message(id: String, model: String) -> Message {
    Message {
        id,
        kind: "message",
        role: "assistant",
        model,
        content: Vec::new(),
        stop_reason: None,
        stop_sequence: None,
        usage: MessageUsage::default(),
    }
}

fn stop_reason(stats: &sirocco_engine::GenerationStats) -> &'static str {
    use sirocco_engine::FinishReason;
    match stats.finish_reason {
        FinishReason::Stop if stats.stop_sequence.is_some() => "stop_sequence",
        FinishReason::Stop | FinishReason::Cancelled => "end_turn",
        FinishReason::Length | FinishReason::ContextFull => "max_tokens",
        FinishReason::ToolCalls => "tool_use",
    }
}

/// A call as a `tool_use` block: its arguments as the JSON object they are.
fn tool_use(call: ToolCall) -> ContentBlock {
    let input = serde_json::from_str(&call.arguments).unwrap_or_else(|_| Value::Object(Default::default()));
    ContentBlock::ToolUse { id: tool_use_id(&call.id), name: call.name, input }
}

/// Anthropic's ids read `toolu_…`; the engine's `call_…` (the client sends it back as is).
fn tool_use_id(id: &str) -> String {
    format!("toolu_{}", id.strip_prefix("call_").unwrap_or(id))
}

/// The streamed answer as Anthropic's blocks: each opened when its first piece arrives (a thought,
/// the text, each tool call), closed when the next begins or the answer ends.
#[derive(Default)]
struct Blocks {
    /// The index of the block open now and whether it is a thought.
    open: Option<(usize, bool)>,
    count: usize,
    /// Thoughts are answered as empty blocks (`display: omitted`).
    omitted: bool,
}

impl Blocks {
    fn close(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some((index, _)) = self.open.take() {
            out.push(StreamEvent::ContentBlockStop { index });
        }
    }

    fn open(&mut self, block: ContentBlock, out: &mut Vec<StreamEvent>) -> usize {
        self.close(out);
        let index = self.count;
        self.count += 1;
        self.open = Some((index, matches!(block, ContentBlock::Thinking { .. })));
        out.push(StreamEvent::ContentBlockStart { index, content_block: block });
        index
    }

    fn next(&mut self, event: GenerationEvent) -> Vec<StreamEvent> {
        let mut out = Vec::new();
        match event {
            GenerationEvent::Reasoning { text } => {
                let index = match self.open {
                    Some((index, true)) => index,
                    _ => self
                        .open(ContentBlock::Thinking { thinking: String::new(), signature: String::new() }, &mut out),
                };
                if !self.omitted {
                    out.push(StreamEvent::ContentBlockDelta { index, delta: BlockDelta::Thinking { thinking: text } });
                }
            }
            GenerationEvent::Text { text, .. } if text.is_empty() => {}
            GenerationEvent::Text { text, .. } => {
                let index = match self.open {
                    Some((index, false)) => index,
                    _ => self.open(ContentBlock::Text { text: String::new() }, &mut out),
                };
                out.push(StreamEvent::ContentBlockDelta { index, delta: BlockDelta::Text { text } });
            }
            GenerationEvent::ToolCalls { calls } => {
                for call in calls {
                    let arguments = call.arguments.clone();
                    let ContentBlock::ToolUse { id, name, .. } = tool_use(call) else { unreachable!() };
                    let block = ContentBlock::ToolUse { id, name, input: Value::Object(Default::default()) };
                    let index = self.open(block, &mut out);
                    let delta = BlockDelta::InputJson { partial_json: arguments };
                    out.push(StreamEvent::ContentBlockDelta { index, delta });
                    self.close(&mut out);
                }
            }
            GenerationEvent::Done { stats } => {
                self.close(&mut out);
                let delta = MessageDeltaBody {
                    stop_reason: Some(stop_reason(&stats)),
                    stop_sequence: stats.stop_sequence.clone(),
                };
                out.push(StreamEvent::MessageDelta { delta, usage: MessageUsage::from_stats(&stats) });
                out.push(StreamEvent::MessageStop);
            }
            GenerationEvent::Error { message, busy, overflow } => {
                let error = AnthropicError(ApiError::from_generation(message, busy, overflow, "messages"));
                out.push(StreamEvent::Error { error: ErrorBody { kind: error.kind(), message: error.message() } });
            }
        }
        out
    }
}

/// The thought a request asks for.
struct Thinking {
    effort: Option<ReasoningEffort>,
    /// The most tokens the model may think for.
    budget: Option<u32>,
    /// The thought's text is left out of the answer.
    omitted: bool,
}

/// `enabled` (with its budget), `disabled`, or the model's own default (`adaptive`,
/// `between_tools`, or nothing said).
fn thinking(param: Option<ThinkingParam>) -> Thinking {
    let omitted = |display: Option<ThinkingDisplay>| display == Some(ThinkingDisplay::Omitted);
    match param {
        Some(ThinkingParam::Enabled { budget_tokens, display }) => {
            Thinking { effort: Some(ReasoningEffort::High), budget: Some(budget_tokens), omitted: omitted(display) }
        }
        Some(ThinkingParam::Disabled) => Thinking { effort: Some(ReasoningEffort::None), budget: None, omitted: false },
        Some(ThinkingParam::Adaptive { display }) => Thinking { effort: None, budget: None, omitted: omitted(display) },
        Some(ThinkingParam::BetweenTools) | None => Thinking { effort: None, budget: None, omitted: false },
    }
}

/// The tools as chat completions' (checked there), and Anthropic's `tool_choice` as theirs.
fn tools(
    tools: Option<Vec<ToolParam>>,
    choice: Option<ToolChoiceParam>,
) -> Result<Option<sirocco_engine::ToolSpec>, ApiError> {
    let mut definitions = Vec::new();
    for t in tools.unwrap_or_default() {
        // Anthropic's own server tools (web search, code execution) run at Anthropic: a local
        // model is not offered them, and the request goes on without (as llama.cpp's server does).
        let Some(schema) = t.input_schema else {
            tracing::warn!(
                tool = t.name,
                kind = t.kind.as_deref().unwrap_or(""),
                "a server tool is not offered to a local model"
            );
            continue;
        };
        definitions.push(ToolDefinition {
            kind: "function".into(),
            function: FunctionDefinition { name: t.name, description: t.description, parameters: Some(schema) },
        });
    }
    let (choice, parallel) = match choice {
        None => (None, true),
        Some(ToolChoiceParam::Auto { disable_parallel_tool_use }) => {
            (Some(Value::from("auto")), !disable_parallel_tool_use)
        }
        Some(ToolChoiceParam::Any { disable_parallel_tool_use }) => {
            (Some(Value::from("required")), !disable_parallel_tool_use)
        }
        Some(ToolChoiceParam::Tool { name, disable_parallel_tool_use }) => {
            (Some(serde_json::json!({ "type": "function", "function": { "name": name } })), !disable_parallel_tool_use)
        }
        Some(ToolChoiceParam::None) => (Some(Value::from("none")), true),
    };
    request::tools(Some(definitions), choice, Some(parallel))
}

/// Anthropic's conversation as chat messages: the system prompt first; a user message's
/// `tool_result` blocks become tool messages (in their order) before its text; an assistant
/// message's thought, text and `tool_use` blocks one assistant message.
fn messages(system: Option<SystemPrompt>, input: Vec<InputMessage>) -> Result<Vec<ChatMessage>, ApiError> {
    if input.is_empty() {
        return Err(ApiError::invalid("messages must not be empty.", Some("messages")));
    }
    let mut out = Vec::new();
    match system {
        Some(SystemPrompt::Text(text)) if !text.is_empty() => {
            out.push(ChatMessage::new(Role::System, steady_system_text(text)))
        }
        Some(SystemPrompt::Blocks(blocks)) => {
            let mut text = String::new();
            for block in blocks {
                match block {
                    ContentBlockParam::Text { text: t } => text.push_str(&steady_system_text(t)),
                    other => return Err(unsupported(&other, "system")),
                }
            }
            if !text.is_empty() {
                out.push(ChatMessage::new(Role::System, text));
            }
        }
        _ => {}
    }
    for m in input {
        let blocks = match m.content {
            MessageContent::Text(text) => vec![ContentBlockParam::Text { text }],
            MessageContent::Blocks(blocks) => blocks,
        };
        match m.role.as_str() {
            "user" => {
                let mut text = String::new();
                let mut images = Vec::new();
                for block in blocks {
                    match block {
                        ContentBlockParam::Text { text: t } => text.push_str(&t),
                        ContentBlockParam::Image { source } => images.push(image(source)?),
                        ContentBlockParam::ToolResult { tool_use_id, content, is_error } => {
                            let result = match content {
                                None => String::new(),
                                Some(MessageContent::Text(t)) => t,
                                Some(MessageContent::Blocks(b)) => text_of(b, "tool_result")?,
                            };
                            let result = if is_error { format!("Error: {result}") } else { result };
                            out.push(ChatMessage {
                                tool_call_id: Some(tool_use_id),
                                ..ChatMessage::new(Role::Tool, result)
                            });
                        }
                        ContentBlockParam::Other => text.push_str(NOT_TEXT),
                        other => return Err(unsupported(&other, "user")),
                    }
                }
                if !text.is_empty() || !images.is_empty() || out.last().is_none_or(|m| m.role != Role::Tool) {
                    out.push(ChatMessage { images, ..ChatMessage::new(Role::User, text) });
                }
            }
            "assistant" => {
                let mut message = ChatMessage::new(Role::Assistant, "");
                for block in blocks {
                    match block {
                        ContentBlockParam::Text { text } => message.content.push_str(&text),
                        ContentBlockParam::Thinking { thinking } => {
                            message.reasoning_content.get_or_insert_with(String::new).push_str(&thinking)
                        }
                        ContentBlockParam::RedactedThinking {} => {}
                        ContentBlockParam::ToolUse { id, name, input } => message.tool_calls.push(ToolCall {
                            id,
                            name,
                            arguments: if input.is_null() { "{}".into() } else { input.to_string() },
                        }),
                        other => return Err(unsupported(&other, "assistant")),
                    }
                }
                out.push(message);
            }
            other => {
                return Err(ApiError::invalid(
                    format!(
                    "Unsupported role `{other}`: messages are `user` or `assistant` (the system prompt is `system`)."
                ),
                    Some("messages"),
                ))
            }
        }
    }
    Ok(out)
}

/// What the model reads in place of an image or a document: clients send the whole history
/// each time, and one image must not make every later request fail.
const NOT_TEXT: &str = "[An image or document was attached here; this model reads text only.]";

/// An image block's image: base64 (a web address is refused: this server fetches nothing).
fn image(source: ImageSource) -> Result<sirocco_engine::ImageInput, ApiError> {
    match source {
        ImageSource::Base64 { media_type, data } => {
            if !(media_type.is_empty() || media_type.starts_with("image/")) {
                return Err(ApiError::invalid(format!("`{media_type}` is not an image type."), Some("messages")));
            }
            request::base64_image(&data, "messages")
        }
        ImageSource::Url { .. } => Err(ApiError::invalid(
            "Images are not fetched from the web unless the server's owner allows it: send the image itself as a base64 source.",
            Some("messages"),
        )),
    }
}

/// The text of blocks that may only be text (a system prompt, a tool's result); images and
/// documents named.
fn text_of(blocks: Vec<ContentBlockParam>, place: &str) -> Result<String, ApiError> {
    let mut text = String::new();
    for block in blocks {
        match block {
            ContentBlockParam::Text { text: t } => text.push_str(&t),
            ContentBlockParam::Other => text.push_str(NOT_TEXT),
            other => return Err(unsupported(&other, place)),
        }
    }
    Ok(text)
}

/// Claude Code's first system block carries a billing header whose `cch=` value changes with
/// every request; kept as it is, the prompt would differ at its start each time and nothing of
/// the cache could be reused (llama.cpp's server does the same).
fn steady_system_text(text: String) -> String {
    if !text.starts_with("x-anthropic-billing-header:") {
        return text;
    }
    let Some(at) = text.find("cch=") else { return text };
    let start = at + "cch=".len();
    let end = text[start..].find(';').map_or(text.len(), |i| start + i);
    format!("{}00000{}", &text[..start], &text[end..])
}

fn unsupported(block: &ContentBlockParam, place: &str) -> ApiError {
    let kind = match block {
        ContentBlockParam::Text { .. } => "text",
        ContentBlockParam::ToolUse { .. } => "tool_use",
        ContentBlockParam::ToolResult { .. } => "tool_result",
        ContentBlockParam::Thinking { .. } => "thinking",
        ContentBlockParam::RedactedThinking {} => "redacted_thinking",
        ContentBlockParam::Image { .. } => "image",
        ContentBlockParam::Other => {
            return ApiError::invalid(
                format!(
                    "Only text, tool_use, tool_result and thinking blocks are supported; a {place} message has \
                     another kind (images and documents are not read yet)."
                ),
                Some("messages"),
            )
        }
    };
    let message = format!("A {kind} block cannot be in a {place} message.");
    ApiError::invalid(message, Some("messages"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_codes_billing_header_reads_the_same_each_time() {
        let a = steady_system_text("x-anthropic-billing-header: cc_version=2.1; cch=ab12c; cc_entrypoint=cli".into());
        let b = steady_system_text("x-anthropic-billing-header: cc_version=2.1; cch=zz99zzz; cc_entrypoint=cli".into());
        assert_eq!(a, b);
        assert_eq!(a, "x-anthropic-billing-header: cc_version=2.1; cch=00000; cc_entrypoint=cli");
        let other = "You are a helpful assistant; cch=1;".to_string();
        assert_eq!(steady_system_text(other.clone()), other, "only the billing header is touched");
    }
}
