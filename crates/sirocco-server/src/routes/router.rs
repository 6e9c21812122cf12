//! llama.cpp's router-mode model management: `GET /models` (every model a request may name,
//! each with its `status`: loaded, loading, unloading or unloaded), `POST /models/load` and
//! `POST /models/unload` (`{"model": id}`). Sirocco adds what it knows of each loaded model
//! under `sirocco` (who loaded it, memory, requests using it, idle since) — what `sirocco ps`
//! prints.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use sirocco_host::{ModelStatus, ResidentModel};

use super::request::ApiJson;
use crate::{ApiError, Shared};

fn status(value: &str) -> Value {
    json!({ "value": value })
}

fn resident(state: &crate::ServerState, m: &ResidentModel) -> Value {
    let value = match m.status {
        ModelStatus::Loading => "loading",
        ModelStatus::Loaded => "loaded",
        ModelStatus::Unloading => "unloading",
    };
    json!({
        "id": m.id,
        "object": "model",
        "created": state.started,
        "owned_by": "sirocco",
        "status": status(value),
        "sirocco": {
            "path": m.path,
            "loaded_by": m.loaded_by,
            "ram_bytes": m.memory.ram,
            "vram_bytes": m.memory.vram,
            "in_use": m.in_use,
            "idle_since_ms": m.idle_since_ms,
            "context_length": m.model.as_ref().map(|l| l.context_length),
        },
    })
}

pub async fn list(State(state): Shared) -> Json<Value> {
    let resident_models = state.host.resident();
    let mut data: Vec<Value> = resident_models.iter().map(|m| resident(&state, m)).collect();
    if let Some(on_demand) = &state.on_demand {
        for m in state.catalog(on_demand, false).await.iter() {
            if !resident_models.iter().any(|r| r.id == m.id) {
                data.push(json!({
                    "id": m.id,
                    "object": "model",
                    "created": state.started,
                    "owned_by": "sirocco",
                    "status": status("unloaded"),
                }));
            }
        }
    }
    Json(json!({ "object": "list", "data": data }))
}

#[derive(Deserialize)]
pub struct ModelRequest {
    model: String,
}

/// Loads a library model (as the server's: the least recently used idle one makes room for
/// another, and idleness unloads it). Returns when it is loaded.
pub async fn load(State(state): Shared, ApiJson(body, _): ApiJson<ModelRequest>) -> Result<Json<Value>, ApiError> {
    let Some(on_demand) = &state.on_demand else {
        return Err(ApiError::invalid(
            "Loading models through the API is off: turn on loading on demand in Sirocco.",
            Some("model"),
        ));
    };
    let entry = state.catalog_entry(on_demand, &body.model, &state.host.loaded_ids()).await?;
    let lease = state.host.lease_or_load(entry).await.map_err(crate::on_demand::host_error)?;
    drop(lease);
    Ok(Json(json!({ "success": true })))
}

/// Unloads a loaded model once the requests using it are done.
pub async fn unload(State(state): Shared, ApiJson(body, _): ApiJson<ModelRequest>) -> Result<Json<Value>, ApiError> {
    let loaded = state.host.loaded_ids();
    if !loaded.contains(&body.model) {
        return Err(ApiError::model_not_found(&body.model, &loaded));
    }
    state.host.unload(&body.model).await.map_err(crate::on_demand::host_error)?;
    Ok(Json(json!({ "success": true })))
}
