//! `GET /health`: up, and which model it serves (no API key needed).

use axum::Json;
use serde_json::{json, Value};

use crate::Shared;

pub async fn handle(axum::extract::State(state): Shared) -> Json<Value> {
    let model = state.served.read().unwrap().as_ref().map(|m| m.id.clone());
    Json(json!({ "status": "ok", "model": model }))
}
