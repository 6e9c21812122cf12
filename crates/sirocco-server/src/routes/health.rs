//! `GET /health`: up, and — to this machine only — which models are loaded with what context
//! (no API key needed, so a peer on the network learns only that the server is up).
//! `model` is the one a request naming none gets; `server` says it is Sirocco (so `sirocco
//! serve` can tell a port the app serves from one another program holds).

use axum::Json;
use serde_json::{json, Value};
use sirocco_host::ModelStatus;

use crate::Shared;

pub async fn handle(
    axum::extract::State(state): Shared,
    connection: Option<axum::Extension<crate::Connection>>,
) -> Json<Value> {
    let from_here = connection.is_some_and(|c| c.peer.ip().to_canonical().is_loopback());
    if !from_here {
        return Json(json!({"status": "ok"}));
    }
    let default = state.host.default_model();
    let loaded: Vec<String> =
        state.host.resident().into_iter().filter(|m| m.status == ModelStatus::Loaded).map(|m| m.id).collect();
    Json(json!({
        "status": "ok",
        "server": "sirocco",
        "model": default.as_ref().map(|m| &m.id),
        "context_length": default.as_ref().and_then(|m| m.model.as_ref()).map(|l| l.context_length),
        "models": loaded,
    }))
}
