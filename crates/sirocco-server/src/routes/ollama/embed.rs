//! `POST /api/embed` (one or many inputs, unit-length vectors, optionally cut to `dimensions`)
//! and the older `POST /api/embeddings` (one prompt, one vector). No input loads the model (or,
//! with `keep_alive: 0`, unloads it).

use std::time::Instant;

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::{KeepFor, OllamaError, OllamaJson};
use crate::wire::ollama::{EmbedInput, EmbedRequest, EmbeddingsRequest};
use crate::Shared;

/// Inputs per request: each is a full forward pass on this machine.
const MAX_INPUTS: usize = 256;

pub async fn embed(
    State(state): Shared,
    OllamaJson(body): OllamaJson<EmbedRequest>,
) -> Result<Json<Value>, OllamaError> {
    let started = Instant::now();
    let inputs = match body.input {
        EmbedInput::One(text) if text.is_empty() => vec![],
        EmbedInput::One(text) => vec![text],
        EmbedInput::Many(texts) => texts,
    };
    if inputs.len() > MAX_INPUTS {
        return Err(OllamaError::invalid(format!("input takes at most {MAX_INPUTS} texts")));
    }
    if body.dimensions == Some(0) {
        return Err(OllamaError::invalid("dimensions must be at least 1"));
    }
    let keep = super::keep_for(body.keep_alive)?;
    if inputs.is_empty() && keep == KeepFor::Unload {
        super::unload(&state, &body.model).await?;
        return Ok(Json(json!({ "model": body.model, "embeddings": [] })));
    }
    let (served, lease, load) = super::lease(&state, &body.model, None).await?;
    keep.apply(&state, &served.id);
    if inputs.is_empty() {
        return Ok(Json(json!({ "model": body.model, "embeddings": [] })));
    }
    let engine = lease.engine();
    let embedded =
        if body.truncate.unwrap_or(true) { engine.embed_truncating(inputs).await } else { engine.embed(inputs).await };
    let embeddings = embedded.map_err(|e| match e {
        sirocco_engine::EngineError::InvalidRequest(m) => OllamaError::invalid(m),
        e => e.into(),
    })?;
    let vectors: Vec<Vec<f32>> = embeddings
        .vectors
        .into_iter()
        .map(|mut v| {
            if let Some(d) = body.dimensions.filter(|d| *d < v.len()) {
                v.truncate(d);
            }
            unit(v)
        })
        .collect();
    Ok(Json(json!({
        "model": body.model,
        "embeddings": vectors,
        "total_duration": started.elapsed().as_nanos() as u64,
        "load_duration": load.as_nanos() as u64,
        "prompt_eval_count": embeddings.prompt_tokens,
    })))
}

pub async fn embeddings(
    State(state): Shared,
    OllamaJson(body): OllamaJson<EmbeddingsRequest>,
) -> Result<Json<Value>, OllamaError> {
    let keep = super::keep_for(body.keep_alive)?;
    if body.prompt.is_empty() && keep == KeepFor::Unload {
        super::unload(&state, &body.model).await?;
        return Ok(Json(json!({ "embedding": [] })));
    }
    let (served, lease, _) = super::lease(&state, &body.model, None).await?;
    keep.apply(&state, &served.id);
    if body.prompt.is_empty() {
        return Ok(Json(json!({ "embedding": [] })));
    }
    let embeddings = lease.engine().embed_truncating(vec![body.prompt]).await?;
    let vector = embeddings.vectors.into_iter().next().unwrap_or_default();
    Ok(Json(json!({ "embedding": vector })))
}

/// `v` scaled to length 1 (a zero vector stays as it is).
fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}
