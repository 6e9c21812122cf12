//! The models a request may name: the library, each with the offload this machine takes and
//! its saved settings on top — the same for the app's server and `sirocco serve`.

use sirocco_engine::hardware::Hardware;
use sirocco_engine::{planner, LoadParams};
use sirocco_hub::library::{self, LibraryRoots};
use sirocco_store::Store;

use crate::CatalogModel;

/// Every usable model under `roots` (those whose header reads), each loaded as the planner
/// fits it to this machine (most GPU layers; a MoE's experts in RAM when that fits more) over
/// `base`, with the model's default preset's load fields from `store` on top.
pub async fn library_catalog(roots: LibraryRoots, store: Option<&Store>, base: &LoadParams) -> Vec<CatalogModel> {
    let models = tokio::task::spawn_blocking(move || library::scan(&roots)).await.unwrap_or_default();
    let hardware = Hardware::detect();
    let mut catalog = Vec::new();
    for m in models {
        let Some(summary) = &m.summary else { continue };
        let planned = planner::planned_load(summary, &hardware, base.clone());
        let params = match store {
            Some(store) => store.model_load_params(&m.path.to_string_lossy(), planned.clone()).await.unwrap_or(planned),
            None => planned,
        };
        // Its vision projector, when one is beside it, comes with it.
        let params = LoadParams { projector: m.projector.clone(), ..params };
        catalog.push(CatalogModel { id: m.id(), path: m.path, params });
    }
    catalog
}
