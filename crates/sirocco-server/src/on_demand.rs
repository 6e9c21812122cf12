//! Which model answers a request: the loaded one, or — when the user allows it — the library
//! model the request names, loaded on demand with its own saved settings and unloaded after an
//! idle time-out.
//!
//! Every generation holds a [`Lease`]: a place among the requests in flight and a read share of
//! the model. Switching models takes the write side, so it waits for the requests on the old
//! model to finish and holds back new ones until the new model is in (tokio's lock is fair: a
//! waiting switch is not starved by a stream of readers). Concurrent first requests for one
//! model load it once: the second finds it loaded when it gets the lock.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use sirocco_engine::LoadParams;
use tokio::sync::{OwnedRwLockReadGuard, OwnedSemaphorePermit, RwLock};

use crate::{ApiError, ServedModel, ServerState};

/// A model a request may name.
#[derive(Debug, Clone)]
pub struct CatalogModel {
    pub id: String,
    pub path: PathBuf,
    /// The model's own saved settings.
    pub params: LoadParams,
}

/// The models the server may load, listed afresh when needed (the library changes).
pub type Catalog = Arc<dyn Fn() -> BoxFuture<'static, Vec<CatalogModel>> + Send + Sync>;

/// A model the server loaded on demand.
#[derive(Debug, Clone)]
pub struct LoadedOnDemand {
    pub served: ServedModel,
    pub path: PathBuf,
    pub model: sirocco_engine::LoadedModel,
}

/// Told whenever the server loads (`Some`) or unloads (`None`) a model: the app shows what is
/// loaded.
pub type ModelChanged = Arc<dyn Fn(Option<LoadedOnDemand>) + Send + Sync>;

/// Loading on demand, when the user allows it.
#[derive(Clone)]
pub struct OnDemand {
    pub catalog: Catalog,
    /// A model the server loaded is unloaded after this long without requests.
    pub idle_unload: Option<Duration>,
    pub on_change: Option<ModelChanged>,
}

/// What the server knows about model switching.
pub(crate) struct Switching {
    pub on_demand: Option<OnDemand>,
    /// Generations hold it shared; a switch holds it alone.
    pub lock: Arc<RwLock<()>>,
    /// The loaded model came from a request (so idleness may unload it).
    pub loaded_here: AtomicBool,
    pub last_used: Arc<Mutex<Instant>>,
}

impl Switching {
    pub fn new(on_demand: Option<OnDemand>) -> Self {
        Self {
            on_demand,
            lock: Arc::new(RwLock::new(())),
            loaded_here: AtomicBool::new(false),
            last_used: Arc::new(Mutex::new(Instant::now())),
        }
    }
}

/// A request's hold on the server: its place in flight and the model it runs on. Dropping it
/// marks the server as used now.
pub struct Lease {
    _permit: OwnedSemaphorePermit,
    _model: OwnedRwLockReadGuard<()>,
    last_used: Arc<Mutex<Instant>>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        *self.last_used.lock().unwrap() = Instant::now();
    }
}

fn wanted(model: Option<&str>) -> Option<&str> {
    model.filter(|m| !m.is_empty())
}

impl ServerState {
    /// A place in flight and the model the request names (loading it when allowed), or the
    /// loaded model when it names none.
    pub async fn lease(&self, model: Option<&str>) -> Result<(ServedModel, Lease), ApiError> {
        let permit = self.admit()?;
        let want = wanted(model);
        loop {
            let guard = self.switching.lock.clone().read_owned().await;
            let served = self.served.read().unwrap().clone();
            match (served, want) {
                (Some(s), None) => return Ok((s, self.lease_of(permit, guard))),
                (Some(s), Some(w)) if s.id == w => return Ok((s, self.lease_of(permit, guard))),
                (served, _) => {
                    drop(guard);
                    let Some(on_demand) = &self.switching.on_demand else {
                        return Err(match (served, want) {
                            (Some(s), Some(w)) => ApiError::model_not_found(w, &s.id),
                            _ => ApiError::unavailable("No model is loaded: load one in Sirocco first."),
                        });
                    };
                    let Some(w) = want else {
                        return Err(ApiError::unavailable(
                            "No model is loaded: name one of GET /v1/models in `model` and it is loaded for you.",
                        ));
                    };
                    self.switch_to(on_demand, w).await?;
                }
            }
        }
    }

    fn lease_of(&self, permit: OwnedSemaphorePermit, guard: OwnedRwLockReadGuard<()>) -> Lease {
        Lease { _permit: permit, _model: guard, last_used: self.switching.last_used.clone() }
    }

    /// Loads library model `id` once every request on the current model has finished.
    async fn switch_to(&self, on_demand: &OnDemand, id: &str) -> Result<(), ApiError> {
        let catalog = (on_demand.catalog)().await;
        let Some(entry) = catalog.iter().find(|m| m.id == id).cloned() else {
            let ids: Vec<String> = catalog.into_iter().map(|m| m.id).collect();
            return Err(ApiError::model_not_in_library(id, &ids));
        };
        let _alone = self.switching.lock.write().await;
        // Another request may have loaded it while this one waited.
        if self.served.read().unwrap().as_ref().is_some_and(|s| s.id == id) {
            return Ok(());
        }
        tracing::info!(model = id, "loading on demand");
        let model = match self.engine.load(&entry.path, entry.params, |_| {}, Arc::new(AtomicBool::new(false))).await {
            Ok(model) => model,
            Err(e) => {
                // The old model went before the new one was read: nothing is loaded now.
                *self.served.write().unwrap() = None;
                self.switching.loaded_here.store(false, Ordering::SeqCst);
                if let Some(tell) = &on_demand.on_change {
                    tell(None);
                }
                return Err(ApiError::unavailable(format!("Could not load {id}: {e}")));
            }
        };
        let served = ServedModel { id: id.to_owned(), context_length: model.context_length };
        *self.served.write().unwrap() = Some(served.clone());
        self.switching.loaded_here.store(true, Ordering::SeqCst);
        *self.switching.last_used.lock().unwrap() = Instant::now();
        if let Some(tell) = &on_demand.on_change {
            tell(Some(LoadedOnDemand { served, path: entry.path, model }));
        }
        Ok(())
    }

    /// The model the server loaded has been idle for `idle`: unload it (once nothing runs on it).
    async fn unload_if_idle(&self, idle: Duration) {
        if !self.switching.loaded_here.load(Ordering::SeqCst) || self.switching.last_used.lock().unwrap().elapsed() < idle {
            return;
        }
        let Ok(_alone) = self.switching.lock.clone().try_write_owned() else { return };
        if self.switching.last_used.lock().unwrap().elapsed() < idle {
            return;
        }
        tracing::info!("unloading the idle model");
        let _ = self.engine.unload().await;
        *self.served.write().unwrap() = None;
        self.switching.loaded_here.store(false, Ordering::SeqCst);
        if let Some(tell) = self.switching.on_demand.as_ref().and_then(|o| o.on_change.as_ref()) {
            tell(None);
        }
    }
}

/// Watches for idleness until the server stops (the task is aborted then).
pub(crate) fn spawn_idle_unloader(state: Arc<ServerState>) -> Option<tokio::task::JoinHandle<()>> {
    let idle = state.switching.on_demand.as_ref()?.idle_unload?;
    let every = (idle / 4).clamp(Duration::from_millis(50), Duration::from_secs(5));
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            state.unload_if_idle(idle).await;
        }
    }))
}
