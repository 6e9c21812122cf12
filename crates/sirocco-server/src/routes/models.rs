//! `GET /v1/models` and `GET /v1/models/{id}`: the loaded model.

use axum::extract::{Path, State};
use axum::Json;

use crate::wire::{ModelList, ModelObject};
use crate::{ApiError, Shared};

fn object(state: &crate::ServerState) -> ModelObject {
    ModelObject { id: state.model_id.clone(), object: "model", created: state.started, owned_by: "sirocco" }
}

pub async fn list(State(state): Shared) -> Json<ModelList> {
    Json(ModelList { object: "list", data: vec![object(&state)] })
}

pub async fn one(State(state): Shared, Path(id): Path<String>) -> Result<Json<ModelObject>, ApiError> {
    if id != state.model_id {
        return Err(ApiError::model_not_found(&id, &state.model_id));
    }
    Ok(Json(object(&state)))
}
