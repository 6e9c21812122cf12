//! llama.cpp-server extras: `POST /tokenize`, `POST /detokenize`, `POST /apply-template` (the
//! exact prompt the model would be given for a messages list).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::request::{self, ApiJson};
use crate::wire::RequestMessage;
use crate::{ApiError, Shared};

#[derive(Deserialize)]
pub struct TokenizeRequest {
    content: String,
    #[serde(default)]
    add_special: bool,
    #[serde(default = "yes")]
    parse_special: bool,
    /// Which loaded (or library) model's tokens; the default model when absent.
    #[serde(default)]
    model: Option<String>,
}

fn yes() -> bool {
    true
}

pub async fn tokenize(
    State(state): Shared,
    ApiJson(body, _): ApiJson<TokenizeRequest>,
) -> Result<Json<Value>, ApiError> {
    let model = state.model_lease(body.model.as_deref()).await?;
    let tokens = model.engine().tokenize(body.content, body.add_special, body.parse_special).await?;
    Ok(Json(json!({ "tokens": tokens })))
}

#[derive(Deserialize)]
pub struct DetokenizeRequest {
    tokens: Vec<i32>,
    #[serde(default)]
    model: Option<String>,
}

pub async fn detokenize(
    State(state): Shared,
    ApiJson(body, _): ApiJson<DetokenizeRequest>,
) -> Result<Json<Value>, ApiError> {
    if body.tokens.len() > 1_000_000 {
        return Err(ApiError::invalid("At most 1,000,000 tokens per request.", Some("tokens")));
    }
    let model = state.model_lease(body.model.as_deref()).await?;
    let content = model.engine().detokenize(body.tokens, true).await?;
    Ok(Json(json!({ "content": content })))
}

/// The fields a chat request's prompt depends on, taken as `/v1/chat/completions` takes them, so
/// the prompt shown is the one that request would be given.
#[derive(Deserialize)]
pub struct ApplyTemplateRequest {
    messages: Vec<RequestMessage>,
    #[serde(default)]
    tools: Option<Vec<crate::wire::ToolDefinition>>,
    #[serde(default)]
    tool_choice: Option<Value>,
    #[serde(default)]
    parallel_tool_calls: Option<bool>,
    #[serde(default)]
    reasoning_effort: Option<sirocco_engine::ReasoningEffort>,
    /// `chat_template_kwargs` (its `enable_thinking`) and the other thinking fields.
    #[serde(flatten)]
    thinking: crate::wire::ThinkingFields,
    #[serde(default)]
    model: Option<String>,
}

pub async fn apply_template(
    State(state): Shared,
    ApiJson(body, _): ApiJson<ApplyTemplateRequest>,
) -> Result<Json<Value>, ApiError> {
    let messages = request::messages(body.messages)?;
    let tools = request::tools(body.tools, body.tool_choice, body.parallel_tool_calls)?;
    let model = state.model_lease(body.model.as_deref()).await?;
    let request = sirocco_engine::GenerateRequest {
        tools,
        reasoning_effort: body.thinking.effort(body.reasoning_effort),
        ..sirocco_engine::GenerateRequest::new(messages, Default::default())
    };
    let tokens = model.engine().prompt_tokens_for(request).await?;
    let prompt = model.engine().detokenize(tokens, true).await?;
    Ok(Json(json!({ "prompt": prompt })))
}
