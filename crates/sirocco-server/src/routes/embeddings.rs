//! `POST /v1/embeddings`: one unit-length vector per input text, as floats or base64 (the
//! `openai` SDKs ask for base64 by default: little-endian `f32`s).

use axum::extract::State;
use axum::Json;
use base64::Engine as _;
use serde_json::{json, Value};

use super::request::ApiJson;
use crate::wire::{EmbeddingInput, EmbeddingsRequest};
use crate::{ApiError, Shared};

/// Inputs per request: each is a full forward pass on this machine.
const MAX_INPUTS: usize = 256;

pub async fn handle(
    State(state): Shared,
    ApiJson(body, admission): ApiJson<EmbeddingsRequest>,
) -> Result<Json<Value>, ApiError> {
    let inputs = match body.input {
        EmbeddingInput::One(text) => vec![text],
        EmbeddingInput::Many(texts) => texts,
        EmbeddingInput::Tokens(_) => {
            return Err(ApiError::invalid(
                "Send input as text: token ids from another tokenizer mean nothing to this model.",
                Some("input"),
            ))
        }
    };
    if inputs.is_empty() || inputs.len() > MAX_INPUTS {
        return Err(ApiError::invalid(format!("input takes 1 to {MAX_INPUTS} texts."), Some("input")));
    }
    if inputs.iter().any(String::is_empty) {
        return Err(ApiError::invalid("input texts must not be empty.", Some("input")));
    }
    let base64 = match body.encoding_format.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                format!("encoding_format `{other}`: use float or base64."),
                Some("encoding_format"),
            ))
        }
    };
    let (served, lease) = state.lease(body.model.as_deref(), admission).await?;
    let embeddings = lease.engine().embed(inputs).await.map_err(|e| match e {
        sirocco_engine::EngineError::InvalidRequest(m) => ApiError::invalid(m, Some("input")),
        e => e.into(),
    })?;
    if let Some(d) = body.dimensions {
        let n = embeddings.vectors.first().map_or(0, Vec::len);
        if d as usize != n {
            return Err(ApiError::invalid(
                format!("This model's embeddings have {n} dimensions, not {d}."),
                Some("dimensions"),
            ));
        }
    }
    let data: Vec<Value> = embeddings
        .vectors
        .into_iter()
        .enumerate()
        .map(|(index, v)| {
            let embedding = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(v)
            };
            json!({ "object": "embedding", "index": index, "embedding": embedding })
        })
        .collect();
    Ok(Json(json!({
        "object": "list",
        "data": data,
        "model": served.id,
        "usage": { "prompt_tokens": embeddings.prompt_tokens, "total_tokens": embeddings.prompt_tokens },
    })))
}
