//! `GET /health`: up, and which model is loaded with what context (no API key needed).

use axum::Json;
use serde_json::{json, Value};

use crate::Shared;

pub async fn handle(axum::extract::State(state): Shared) -> Json<Value> {
    let served = state.served.read().unwrap().clone();
    Json(json!({
        "status": "ok",
        "model": served.as_ref().map(|m| &m.id),
        "context_length": served.as_ref().map(|m| m.context_length),
    }))
}
