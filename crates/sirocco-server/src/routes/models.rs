//! `GET /v1/models` and `GET /v1/models/{id}`: the loaded models, and with loading on demand
//! every library model a request may name.

use axum::extract::{Path, State};
use axum::Json;

use crate::wire::{ModelList, ModelObject};
use crate::{ApiError, Shared};

fn object(state: &crate::ServerState, id: String) -> ModelObject {
    ModelObject { id, object: "model", created: state.started, owned_by: "sirocco" }
}

/// The ids a request may name: the loaded models first, then the library's.
async fn ids(state: &crate::ServerState) -> Vec<String> {
    let mut ids: Vec<String> = state.host.loaded_ids();
    if let Some(on_demand) = &state.on_demand {
        for m in state.catalog(on_demand, false).await.iter() {
            if !ids.contains(&m.id) {
                ids.push(m.id.clone());
            }
        }
    }
    ids
}

/// The models a request may name (an empty list while none is loaded and none may be).
pub async fn list(State(state): Shared) -> Json<ModelList> {
    let data = ids(&state).await.into_iter().map(|id| object(&state, id)).collect();
    Json(ModelList { object: "list", data })
}

pub async fn one(State(state): Shared, Path(id): Path<String>) -> Result<Json<ModelObject>, ApiError> {
    let ids = ids(&state).await;
    if !ids.contains(&id) {
        return Err(match state.on_demand {
            Some(_) => ApiError::model_not_in_library(&id, &ids),
            None => ApiError::model_not_found(&id, &ids),
        });
    }
    Ok(Json(object(&state, id)))
}
