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
}

fn yes() -> bool {
    true
}

pub async fn tokenize(State(state): Shared, ApiJson(body): ApiJson<TokenizeRequest>) -> Result<Json<Value>, ApiError> {
    state.model()?;
    let tokens = state.engine.tokenize(body.content, body.add_special, body.parse_special).await?;
    Ok(Json(json!({ "tokens": tokens })))
}

#[derive(Deserialize)]
pub struct DetokenizeRequest {
    tokens: Vec<i32>,
}

pub async fn detokenize(State(state): Shared, ApiJson(body): ApiJson<DetokenizeRequest>) -> Result<Json<Value>, ApiError> {
    state.model()?;
    if body.tokens.len() > 1_000_000 {
        return Err(ApiError::invalid("At most 1,000,000 tokens per request.", Some("tokens")));
    }
    let content = state.engine.detokenize(body.tokens, true).await?;
    Ok(Json(json!({ "content": content })))
}

#[derive(Deserialize)]
pub struct ApplyTemplateRequest {
    messages: Vec<RequestMessage>,
    #[serde(default)]
    tools: Option<Vec<crate::wire::ToolDefinition>>,
    #[serde(default)]
    tool_choice: Option<Value>,
}

pub async fn apply_template(State(state): Shared, ApiJson(body): ApiJson<ApplyTemplateRequest>) -> Result<Json<Value>, ApiError> {
    state.model()?;
    let messages = request::messages(body.messages)?;
    let tools = request::tools(body.tools, body.tool_choice, None)?;
    let tokens = state.engine.prompt_tokens(messages, None, tools).await?;
    let prompt = state.engine.detokenize(tokens, true).await?;
    Ok(Json(json!({ "prompt": prompt })))
}
