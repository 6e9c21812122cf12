//! From OpenAI's request fields to an engine request, checking every value on the way: a bad
//! value is a 400 naming the field, never a panic and never a value llama.cpp could trip on.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sirocco_engine::{ChatMessage, ImageInput, Role, SamplingParams, Tool, ToolCall, ToolChoice, ToolSpec};

use crate::wire::{Content, RequestMessage, ResponseFormat, SamplingFields, ToolDefinition};
use crate::{ApiError, ServedModel, ServerState};
use std::sync::Arc;

/// A JSON body whose rejections are OpenAI-style errors, and the request's admission when
/// reading the body needed one: web images are fetched only for a request that has its place
/// among those in flight (a full server refuses it before fetching anything), and the place
/// and the fetched images' share of the fetch budget are held until the request ends.
pub struct ApiJson<T>(pub T, pub Admission);

/// A place among the requests in flight taken while the body was read (see [`ApiJson`]).
#[derive(Default)]
pub struct Admission {
    pub(crate) permit: Option<tokio::sync::OwnedSemaphorePermit>,
    pub(crate) fetched: Vec<sirocco_fetch::BudgetHold>,
}

impl<T: DeserializeOwned> FromRequest<Arc<ServerState>> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<ServerState>) -> Result<Self, Self::Rejection> {
        let Some(fetcher) = &state.image_fetcher else {
            return match axum::Json::<T>::from_request(req, state).await {
                Ok(axum::Json(value)) => Ok(Self(value, Admission::default())),
                Err(rejection) => Err(json_error(rejection)),
            };
        };
        // The user lets web images be fetched: each is put in the body in its address's place.
        let mut body = match axum::Json::<Value>::from_request(req, state).await {
            Ok(axum::Json(value)) => value,
            Err(rejection) => return Err(json_error(rejection)),
        };
        let mut admission = Admission::default();
        if super::remote_images::names_any(&body) {
            admission.permit = Some(state.admit()?);
            admission.fetched = super::remote_images::inline(&mut body, fetcher).await?;
        }
        serde_json::from_value(body)
            .map(|value| Self(value, admission))
            .map_err(|e| ApiError::invalid(format!("The body does not match the API: {e}"), None))
    }
}

fn json_error(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let message = match &rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "Send the body as JSON with `Content-Type: application/json`.".to_string()
        }
        JsonRejection::JsonSyntaxError(_) => format!("The body is not valid JSON: {}", rejection.body_text()),
        JsonRejection::JsonDataError(_) => format!("The body does not match the API: {}", rejection.body_text()),
        _ => rejection.body_text(),
    };
    let mut error = ApiError::invalid(message, None);
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        error.status = status;
    }
    error
}

pub fn sampling(f: SamplingFields, served: &ServedModel) -> Result<SamplingParams, ApiError> {
    let mut s = SamplingParams { max_tokens: served.context_length, ..SamplingParams::default() };
    if let Some(n) = f.n {
        if n != 1 {
            return Err(ApiError::invalid("Only n = 1 is supported.", Some("n")));
        }
    }
    if let Some(t) = f.temperature {
        if !(0.0..=2.0).contains(&t) {
            return Err(ApiError::invalid(
                format!("temperature must be between 0 and 2, not {t}."),
                Some("temperature"),
            ));
        }
        s.temperature = t;
    }
    if let Some(p) = f.top_p {
        if !(p > 0.0 && p <= 1.0) {
            return Err(ApiError::invalid(format!("top_p must be in (0, 1], not {p}."), Some("top_p")));
        }
        s.top_p = p;
    }
    if let Some(k) = f.top_k {
        if k < 0 {
            return Err(ApiError::invalid("top_k must be 0 (off) or more.", Some("top_k")));
        }
        s.top_k = k;
    }
    if let Some(p) = f.min_p {
        if !(0.0..=1.0).contains(&p) {
            return Err(ApiError::invalid("min_p must be between 0 and 1.", Some("min_p")));
        }
        s.min_p = p;
    }
    for (value, name, target) in [
        (f.presence_penalty, "presence_penalty", &mut s.presence_penalty),
        (f.frequency_penalty, "frequency_penalty", &mut s.frequency_penalty),
    ] {
        if let Some(v) = value {
            if !(-2.0..=2.0).contains(&v) {
                return Err(ApiError::invalid(format!("{name} must be between -2 and 2."), Some(name)));
            }
            *target = v;
        }
    }
    if let Some(r) = f.repeat_penalty {
        if !(0.0..=10.0).contains(&r) {
            return Err(ApiError::invalid("repeat_penalty must be between 0 and 10.", Some("repeat_penalty")));
        }
        s.repeat_penalty = r;
    } else {
        // OpenAI has no repeat penalty; clients expect the model's plain distribution.
        s.repeat_penalty = 1.0;
    }
    s.ignore_eos = f.ignore_eos.unwrap_or(false);
    if let Some(seed) = f.seed {
        s.seed = seed as u32;
    }
    if let Some(m) = f.max_completion_tokens.or(f.max_tokens) {
        if m == 0 {
            return Err(ApiError::invalid("max_tokens must be at least 1.", Some("max_tokens")));
        }
        s.max_tokens = m.min(served.context_length);
    }
    if let Some(stop) = f.stop {
        let stop = stop.into_vec();
        if stop.len() > 4 || stop.iter().any(|s| s.is_empty() || s.len() > 512) {
            return Err(ApiError::invalid("stop takes up to 4 non-empty strings.", Some("stop")));
        }
        s.stop = stop;
    }
    Ok(s)
}

/// The alternatives to report per token (`None`: no log-probabilities), from chat completions'
/// `logprobs` and `top_logprobs` or completions' `logprobs` (a count): checked, as OpenAI does.
pub fn logprobs(wanted: bool, top: Option<u32>, param: &'static str) -> Result<Option<u32>, ApiError> {
    let max = sirocco_engine::logprobs::MAX_TOP_LOGPROBS;
    match (wanted, top) {
        (_, Some(n)) if n > max => {
            Err(ApiError::invalid(format!("{param} must be at most {max}; it was {n}."), Some(param)))
        }
        (false, Some(_)) if param == "top_logprobs" => {
            Err(ApiError::invalid("top_logprobs needs logprobs set to true.", Some("top_logprobs")))
        }
        (false, _) => Ok(None),
        (true, top) => Ok(Some(top.unwrap_or(0))),
    }
}

pub fn response_format(format: Option<ResponseFormat>, s: &mut SamplingParams) -> Result<(), ApiError> {
    let Some(format) = format else { return Ok(()) };
    match format.kind.as_str() {
        "text" => Ok(()),
        "json_object" => {
            s.json_schema = Some(serde_json::json!({ "type": "object" }));
            Ok(())
        }
        "json_schema" => {
            let schema = format.json_schema.and_then(|j| j.schema).ok_or_else(|| {
                ApiError::invalid("response_format.json_schema.schema is required.", Some("response_format"))
            })?;
            s.json_schema = Some(schema);
            Ok(())
        }
        other => Err(ApiError::invalid(format!("Unknown response_format type `{other}`."), Some("response_format"))),
    }
}

/// The tools a chat request offers, or None when it offers none (or `tool_choice` is `none`).
pub fn tools(
    tools: Option<Vec<ToolDefinition>>,
    choice: Option<Value>,
    parallel: Option<bool>,
) -> Result<Option<ToolSpec>, ApiError> {
    let bad = |message: String| ApiError::invalid(message, Some("tools"));
    let tools = tools.unwrap_or_default();
    if tools.len() > 128 {
        return Err(bad("At most 128 tools per request.".into()));
    }
    let mut spec_tools = Vec::with_capacity(tools.len());
    for t in tools {
        if t.kind != "function" {
            return Err(bad(format!("Tools of type `{}` are not supported; use `function`.", t.kind)));
        }
        let name = t.function.name;
        if name.is_empty()
            || name.len() > 64
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(bad(format!("Tool names are 1 to 64 letters, digits, `_` or `-`; `{name}` is not.")));
        }
        if spec_tools.iter().any(|s: &Tool| s.name == name) {
            return Err(bad(format!("Two tools are named `{name}`.")));
        }
        let parameters = match t.function.parameters {
            None | Some(Value::Null) => serde_json::json!({}),
            Some(p @ Value::Object(_)) => p,
            Some(_) => return Err(bad(format!("The parameters of `{name}` must be a JSON schema object."))),
        };
        spec_tools.push(Tool { name, description: t.function.description.unwrap_or_default(), parameters });
    }
    let choice_error = || {
        ApiError::invalid(
            "tool_choice is `none`, `auto`, `required` or {\"type\": \"function\", \"function\": {\"name\": …}}.",
            Some("tool_choice"),
        )
    };
    let choice = match choice {
        None | Some(Value::Null) => ToolChoice::Auto,
        Some(Value::String(s)) => match s.as_str() {
            "none" => return Ok(None),
            "auto" => ToolChoice::Auto,
            "required" => ToolChoice::Required,
            _ => return Err(choice_error()),
        },
        Some(v) => {
            let name = v.pointer("/function/name").and_then(Value::as_str).ok_or_else(choice_error)?;
            if !spec_tools.iter().any(|t| t.name == name) {
                return Err(ApiError::invalid(
                    format!("tool_choice names `{name}`, which is not among the tools."),
                    Some("tool_choice"),
                ));
            }
            ToolChoice::Function(name.to_owned())
        }
    };
    if spec_tools.is_empty() {
        return match choice {
            ToolChoice::Auto => Ok(None),
            _ => Err(ApiError::invalid(
                "tool_choice asks for a tool call, but no tools were given.",
                Some("tool_choice"),
            )),
        };
    }
    Ok(Some(ToolSpec { tools: spec_tools, choice, parallel: parallel.unwrap_or(true) }))
}

pub fn messages(input: Vec<RequestMessage>) -> Result<Vec<ChatMessage>, ApiError> {
    if input.is_empty() {
        return Err(ApiError::invalid("messages must not be empty.", Some("messages")));
    }
    input
        .into_iter()
        .map(|m| {
            let role = match m.role.as_str() {
                "system" | "developer" => Role::System,
                "user" => Role::User,
                "assistant" => Role::Assistant,
                "tool" => Role::Tool,
                other => {
                    return Err(ApiError::invalid(
                        format!("Unsupported role `{other}` (system, developer, user, assistant and tool are)."),
                        Some("messages"),
                    ))
                }
            };
            if role == Role::Tool && m.tool_call_id.as_deref().is_none_or(str::is_empty) {
                return Err(ApiError::invalid(
                    "A tool message needs the `tool_call_id` of the call it answers.",
                    Some("messages"),
                ));
            }
            let tool_calls: Vec<ToolCall> = m
                .tool_calls
                .unwrap_or_default()
                .into_iter()
                .map(|c| ToolCall {
                    id: c.id.unwrap_or_default(),
                    name: c.function.name,
                    arguments: c.function.arguments,
                })
                .collect();
            if !tool_calls.is_empty() && role != Role::Assistant {
                return Err(ApiError::invalid("Only assistant messages carry `tool_calls`.", Some("messages")));
            }
            let mut images = Vec::new();
            let content = match m.content {
                None => String::new(),
                Some(Content::Text(t)) => t,
                Some(Content::Parts(parts)) => {
                    let mut text = String::new();
                    for p in parts {
                        match (p.kind.as_str(), &p.image_url) {
                            ("text", _) => text.push_str(&p.text.unwrap_or_default()),
                            ("image_url", Some(url)) if role == Role::User => {
                                images.push(image(url.url(), "messages")?)
                            }
                            ("image_url", Some(_)) => {
                                return Err(ApiError::invalid("Only user messages carry images.", Some("messages")))
                            }
                            ("image_url", None) => {
                                return Err(ApiError::invalid(
                                    "An `image_url` part needs its `image_url`.",
                                    Some("messages"),
                                ))
                            }
                            (other, _) => {
                                return Err(ApiError::invalid(
                                    format!(
                                        "Content parts of type `{other}` are not supported; send text or image_url."
                                    ),
                                    Some("messages"),
                                ))
                            }
                        }
                    }
                    text
                }
            };
            Ok(ChatMessage {
                images,
                tool_calls,
                tool_call_id: m.tool_call_id.filter(|_| role == Role::Tool),
                reasoning_content: m.reasoning_content.filter(|t| role == Role::Assistant && !t.is_empty()),
                ..ChatMessage::new(role, content)
            })
        })
        .collect()
}

/// An image sent as a data URL (`data:image/png;base64,…`). A web address left here is refused:
/// the server fetches one only when the user allowed it, and then the address is gone already
/// (see `remote_images`).
pub fn image(url: &str, param: &'static str) -> Result<ImageInput, ApiError> {
    let url = url.trim();
    if url.starts_with("http://") || url.starts_with("https://") {
        return Err(ApiError::invalid(
            "Images are not fetched from the web unless the server's owner allows it: send the image itself as a data URL (data:image/png;base64,…).",
            Some(param),
        ));
    }
    let Some((meta, data)) = url.strip_prefix("data:").and_then(|rest| rest.split_once(',')) else {
        return Err(ApiError::invalid("An image must be a data URL (data:image/png;base64,…).", Some(param)));
    };
    let Some(mime) = meta.strip_suffix(";base64") else {
        return Err(ApiError::invalid("An image data URL must be base64 (data:image/png;base64,…).", Some(param)));
    };
    if !(mime.is_empty() || mime.starts_with("image/")) {
        return Err(ApiError::invalid(format!("A data URL of type `{mime}` is not an image."), Some(param)));
    }
    base64_image(data, param)
}

/// An image's bytes from base64 (whitespace ignored, as some clients wrap lines).
pub fn base64_image(data: &str, param: &'static str) -> Result<ImageInput, ApiError> {
    use base64::Engine as _;
    let data: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.as_bytes())
        .map_err(|_| ApiError::invalid("The image is not valid base64.", Some(param)))?;
    if bytes.is_empty() {
        return Err(ApiError::invalid("The image is empty.", Some(param)));
    }
    Ok(ImageInput::new(bytes))
}

/// For a model that does not see: each image becomes a note in its message's text (clients
/// send the whole history each time, and one image must not make every later request fail).
pub fn images_as_notes(messages: &mut [ChatMessage], note: &str) {
    for m in messages.iter_mut().filter(|m| !m.images.is_empty()) {
        let notes = note.repeat(m.images.len());
        m.content = if m.content.is_empty() { notes } else { format!("{notes}\n\n{}", m.content) };
        m.images.clear();
    }
}

/// Refuses images for a model that does not see.
pub fn check_images(messages: &[ChatMessage], served: &ServedModel, param: &'static str) -> Result<(), ApiError> {
    if !served.vision && messages.iter().any(|m| !m.images.is_empty()) {
        return Err(ApiError::invalid(
            format!(
                "The model `{}` does not see images: load it with its vision projector (an mmproj file beside it).",
                served.id
            ),
            Some(param),
        ));
    }
    Ok(())
}

pub fn finish_reason(reason: &sirocco_engine::FinishReason) -> &'static str {
    use sirocco_engine::FinishReason;
    match reason {
        FinishReason::Stop | FinishReason::Cancelled => "stop",
        FinishReason::Length | FinishReason::ContextFull => "length",
        FinishReason::ToolCalls => "tool_calls",
    }
}

pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A response id (`chatcmpl-…`): unique enough per server run.
pub fn id(prefix: &str) -> String {
    format!("{prefix}-{}", unique())
}

/// An id as the Responses and Anthropic APIs write them (`resp_…`, `msg_…`, `fc_…`).
pub fn item_id(prefix: &str) -> String {
    format!("{prefix}_{}", unique())
}

fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{:x}{:06x}", now(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A whole (not streamed) answer: drained by the engine's one collector, its ending mapped to
/// the API's errors the same way for every route (`param` names the request's field an
/// overflow blames). `each` sees every event first (a route whose shape keeps the events'
/// order builds it there).
pub async fn answer(
    generation: &mut sirocco_engine::Generation,
    param: &'static str,
    each: impl FnMut(&sirocco_engine::GenerationEvent),
) -> Result<(sirocco_engine::Collected, sirocco_engine::GenerationStats), ApiError> {
    let collected = sirocco_engine::collect(generation, each).await;
    match &collected.ending {
        sirocco_engine::Ending::Done(stats) => {
            let stats = stats.clone();
            Ok((collected, stats))
        }
        sirocco_engine::Ending::Failed { message, busy, overflow } => {
            Err(ApiError::from_generation(message.clone(), *busy, *overflow, param))
        }
        sirocco_engine::Ending::Cut => Err(ApiError::unavailable("The engine stopped before the answer was finished.")),
    }
}
