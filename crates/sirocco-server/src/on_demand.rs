//! Which model answers a request: a loaded one the request names (or the user's, when it names
//! none), or — when the user allows it — the library model it names, loaded through the
//! [`ModelHost`](sirocco_host::ModelHost) beside the others (the least recently used idle model
//! the server loaded makes room when memory or the most-models setting says so).
//!
//! Every generation holds a [`Lease`]: a place among the requests in flight and the host's lease
//! on the model, so nothing unloads the model under it.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use sirocco_engine::Engine;
use sirocco_host::HostError;
use tokio::sync::OwnedSemaphorePermit;

use crate::routes::request::Admission;
use crate::{ApiError, ServedModel, ServerState};

/// A model a request may name: its id, file and saved settings.
pub type CatalogModel = sirocco_host::ModelSpec;

/// The models the server may load, listed afresh when needed (the library changes).
pub type Catalog = Arc<dyn Fn() -> BoxFuture<'static, Vec<CatalogModel>> + Send + Sync>;

/// How long a listing of the library answers requests before it is listed again.
pub const CATALOG_FRESH_FOR: Duration = Duration::from_secs(2);

/// Loading on demand, when the user allows it.
#[derive(Clone)]
pub struct OnDemand {
    pub catalog: Catalog,
    /// A model the server loaded is unloaded after this long without requests.
    pub idle_unload: Option<Duration>,
}

/// A request's hold on the server: its place in flight and the model it runs on.
pub struct Lease {
    _permit: OwnedSemaphorePermit,
    /// Fetched web images' share of the fetch budget, held while the request runs.
    _fetched: Vec<sirocco_fetch::BudgetHold>,
    model: sirocco_host::Lease,
}

impl Lease {
    pub fn engine(&self) -> &Engine {
        self.model.engine()
    }
}

fn served(
    model: sirocco_host::Lease,
    permit: OwnedSemaphorePermit,
    fetched: Vec<sirocco_fetch::BudgetHold>,
) -> (ServedModel, Lease) {
    let loaded = model.model();
    let served = ServedModel {
        id: model.id().to_owned(),
        context_length: loaded.context_length,
        vision: loaded.projector.is_some(),
    };
    (served, Lease { _permit: permit, _fetched: fetched, model })
}

fn wanted(model: Option<&str>) -> Option<&str> {
    model.filter(|m| !m.is_empty())
}

impl ServerState {
    /// A place in flight (the one taken while the body was read, else a new one) and the model
    /// the request names (loading it when allowed), or the user's loaded model when it names none.
    pub async fn lease(&self, model: Option<&str>, admission: Admission) -> Result<(ServedModel, Lease), ApiError> {
        let permit = match admission.permit {
            Some(permit) => permit,
            None => self.admit()?,
        };
        let model = self.model_lease(model).await?;
        Ok(served(model, permit, admission.fetched))
    }

    /// A lease on model `id` (a resolved name) with a context of `context_length` tokens
    /// (Ollama's `num_ctx`): loaded so, or loaded again so when the server loaded it with
    /// another. A model the user loaded keeps its own context, as without a library to load from.
    pub async fn lease_with_context(&self, id: &str, context_length: u32) -> Result<(ServedModel, Lease), ApiError> {
        let resident = self.host.resident().into_iter().find(|r| r.id == id);
        let as_asked =
            resident.as_ref().is_some_and(|r| r.model.as_ref().is_some_and(|m| m.context_length == context_length));
        let users = resident.as_ref().is_some_and(|r| r.loaded_by == sirocco_host::LoadedBy::User);
        let Some(on_demand) = self.on_demand.as_ref().filter(|_| !users && !as_asked) else {
            return self.lease(Some(id), Admission::default()).await;
        };
        let mut entry = self.catalog_entry(on_demand, id, &[]).await?;
        entry.params.context_length = Some(context_length);
        let permit = self.admit()?;
        let model = self.host.lease_or_reload(entry).await.map_err(host_error)?;
        Ok(served(model, permit, Vec::new()))
    }

    /// The model a request names (loading it when allowed), or the default one: for requests
    /// that do not generate (tokenize, templates). A name is a model's id or an alias of one
    /// (Ollama's `copy`); a name of no model of ours gets the one model the user loaded, when
    /// there is exactly one (clients with fixed names — `gpt-4o`, `claude-*` — then just work,
    /// and the answer's `model` says which answered); else a 404 listing what there is.
    pub async fn model_lease(&self, model: Option<&str>) -> Result<sirocco_host::Lease, ApiError> {
        let Some(asked) = wanted(model) else {
            return self.host.lease_default().await.map_err(|_| match &self.on_demand {
                Some(_) => ApiError::unavailable(
                    "No model is loaded: name one of GET /v1/models in `model` and it is loaded for you.",
                ),
                None => ApiError::unavailable("No model is loaded: load one in Sirocco first."),
            });
        };
        let loaded = match self.host.lease(asked).await {
            Ok(lease) => return Ok(lease),
            Err(HostError::NotLoaded { loaded, .. }) => loaded,
            Err(e) => return Err(host_error(e)),
        };
        // Not a loaded model's own name: perhaps an alias (asked of the store only now).
        let aliased = self.alias_of(asked).await;
        let want = aliased.as_deref().unwrap_or(asked);
        if aliased.is_some() {
            if let Ok(lease) = self.host.lease(want).await {
                return Ok(lease);
            }
        }
        let missing = match &self.on_demand {
            Some(on_demand) => match self.catalog_entry(on_demand, want, &loaded).await {
                Ok(entry) => return self.host.lease_or_load(entry).await.map_err(host_error),
                Err(missing) => missing,
            },
            None => ApiError::model_not_found(want, &loaded),
        };
        match self.only_user_model(asked).await {
            Some(lease) => Ok(lease),
            None => Err(missing),
        }
    }

    /// The model `name` is an alias of (`name` may carry Ollama's `:latest`).
    pub async fn alias_of(&self, name: &str) -> Option<String> {
        let store = self.store.as_ref()?;
        store.model_alias(name.strip_suffix(":latest").unwrap_or(name)).await.ok().flatten()
    }

    /// The id of the one model the user loaded (in the app, or `sirocco serve --model`), when
    /// exactly one is: what a request naming no model of ours gets.
    pub fn only_user_model_id(&self) -> Option<String> {
        let mine: Vec<String> = self
            .host
            .resident()
            .into_iter()
            .filter(|r| r.loaded_by == sirocco_host::LoadedBy::User && r.status == sirocco_host::ModelStatus::Loaded)
            .map(|r| r.id)
            .collect();
        match <[String; 1]>::try_from(mine) {
            Ok([only]) => Some(only),
            Err(_) => None,
        }
    }

    async fn only_user_model(&self, asked: &str) -> Option<sirocco_host::Lease> {
        let only = self.only_user_model_id()?;
        tracing::info!(asked, answers = %only, "a request named no model of ours: the user's model answers");
        self.host.lease(&only).await.ok()
    }

    /// The library's entry for `id`, or a 404 listing what a request may name: the models
    /// `loaded` (which may be outside the library: a file the user opened) and the library's.
    pub async fn catalog_entry(
        &self,
        on_demand: &OnDemand,
        id: &str,
        loaded: &[String],
    ) -> Result<CatalogModel, ApiError> {
        let mut catalog = self.catalog(on_demand, false).await;
        if !catalog.iter().any(|m| m.id == id) {
            // Perhaps just downloaded: listed again before the answer is no.
            catalog = self.catalog(on_demand, true).await;
        }
        match catalog.iter().find(|m| m.id == id) {
            Some(entry) => Ok(entry.clone()),
            None => {
                let mut available = loaded.to_vec();
                available.extend(catalog.iter().map(|m| m.id.clone()).filter(|m| !loaded.contains(m)));
                Err(ApiError::model_not_in_library(id, &available))
            }
        }
    }

    /// The library's models, listed at most once per [`CATALOG_FRESH_FOR`] however many
    /// requests ask (concurrent ones share one listing); `fresh`: listed again now. The
    /// listing itself reads only headers that changed (`sirocco_hub::library::headers`).
    pub async fn catalog(&self, on_demand: &OnDemand, fresh: bool) -> Arc<Vec<CatalogModel>> {
        let mut memo = self.catalog_memo.lock().await;
        if let Some((at, list)) = &*memo {
            if !fresh && at.elapsed() < CATALOG_FRESH_FOR {
                return list.clone();
            }
        }
        let list = Arc::new((on_demand.catalog)().await);
        *memo = Some((std::time::Instant::now(), list.clone()));
        list
    }
}

/// The host's refusals as the API says them: all are 503s a client may retry later.
pub(crate) fn host_error(e: HostError) -> ApiError {
    match e {
        HostError::LoadFailed { id, message, .. } => ApiError::unavailable(format!("Could not load {id}: {message}")),
        HostError::NoRoom { .. } | HostError::Busy { .. } => ApiError::no_room(e.to_string()),
        HostError::NotLoaded { .. } | HostError::NothingLoaded => ApiError::unavailable(e.to_string()),
    }
}

/// Unloads what the server loaded once it has been idle for the time-out (or for what a client
/// asked: Ollama's `keep_alive`), until the server stops (the task is aborted then). Checked
/// each second at least, so a client's minutes are kept to the second.
pub(crate) fn spawn_idle_unloader(state: Arc<ServerState>) -> Option<tokio::task::JoinHandle<()>> {
    let idle = state.on_demand.as_ref()?.idle_unload;
    let every =
        idle.map_or(Duration::from_secs(1), |idle| (idle / 4).clamp(Duration::from_millis(50), Duration::from_secs(1)));
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            for id in state.host.unload_idle(idle).await {
                tracing::info!(model = id, "unloaded the idle model");
            }
        }
    }))
}
