//! `GET /health`: up, and which models are loaded with what context (no API key needed).
//! `model` is the one a request naming none gets.

use axum::Json;
use serde_json::{json, Value};
use sirocco_host::ModelStatus;

use crate::Shared;

pub async fn handle(axum::extract::State(state): Shared) -> Json<Value> {
    let resident = state.host.resident();
    let loaded: Vec<_> = resident.iter().filter(|m| m.status == ModelStatus::Loaded).collect();
    // The default model, as `lease_default` picks it, without taking a lease.
    let default = loaded
        .iter()
        .find(|m| m.loaded_by == sirocco_host::LoadedBy::User)
        .or_else(|| loaded.first())
        .map(|m| (m.id.clone(), m.model.as_ref().map(|l| l.context_length)));
    Json(json!({
        "status": "ok",
        "model": default.as_ref().map(|d| &d.0),
        "context_length": default.as_ref().and_then(|d| d.1),
        "models": loaded.iter().map(|m| &m.id).collect::<Vec<_>>(),
    }))
}
