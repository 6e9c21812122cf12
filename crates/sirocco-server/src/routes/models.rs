//! `GET /v1/models` and `GET /v1/models/{id}`: the loaded model.

use axum::extract::{Path, State};
use axum::Json;

use crate::wire::{ModelList, ModelObject};
use crate::{ApiError, Shared};

fn object(state: &crate::ServerState, id: String) -> ModelObject {
    ModelObject { id, object: "model", created: state.started, owned_by: "sirocco" }
}

/// The loaded model (an empty list while none is).
pub async fn list(State(state): Shared) -> Json<ModelList> {
    let data = state.model().ok().map(|m| object(&state, m.id)).into_iter().collect();
    Json(ModelList { object: "list", data })
}

pub async fn one(State(state): Shared, Path(id): Path<String>) -> Result<Json<ModelObject>, ApiError> {
    let served = state.model()?;
    if id != served.id {
        return Err(ApiError::model_not_found(&id, &served.id));
    }
    Ok(Json(object(&state, id)))
}
