//! `sirocco-host`: the one owner of loaded models.
//!
//! A [`ModelHost`] loads, unloads and switches models for everyone — the app's commands, the
//! arena, the server's on-demand loads, `sirocco serve`, `sirocco chat`; nothing else loads or
//! unloads. Several models stay resident at once within a memory budget (each model's RAM and
//! VRAM from the planner) and a most-models setting; each has its own engine thread (see
//! `sirocco_engine`'s compute turn for how they share the cores).
//!
//! Every use of a model holds a [`Lease`]: a model with a lease is never unloaded under it. A
//! load that does not fit beside the others unloads the least recently used idle model the
//! server loaded on its own (the user's own idle models too, when the user asked for the load);
//! if that is not enough it waits for busy models, or fails naming the models in the way.
//! Concurrent first requests for one model load it once. [`ModelHost::subscribe`] announces
//! what is loaded; [`ModelHost::events`] reports each load and unload with its reason.
//!
//! No Tauri types; tested without a window.

mod room;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use sirocco_engine::hardware::Hardware;
use sirocco_engine::planner;
use sirocco_engine::{Engine, EngineError, LoadParams, LoadedModel};
use tokio::sync::{broadcast, watch, Notify};

pub use room::{make_room, LoadedBy, Memory, Occupant, Room};

/// Models kept loaded at most when the user has not said (llama.cpp's router keeps 4 too).
pub const DEFAULT_MAX_MODELS: usize = 4;
const GIB: u64 = 1 << 30;

/// A model the host may load: its id (as the library and the server name it), its file, and
/// how to load it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    pub id: String,
    pub path: PathBuf,
    pub params: LoadParams,
}

/// How many models, and how much memory, the host may use.
#[derive(Debug, Clone, PartialEq)]
pub struct HostConfig {
    /// Most models kept loaded (`None`: as many as fit, at most [`DEFAULT_MAX_MODELS`]).
    pub max_models: Option<usize>,
    /// RAM left free for everything else on the machine.
    pub reserve_ram: u64,
    /// VRAM left free on the GPUs.
    pub reserve_vram: u64,
    /// The memory the models may use together, instead of this machine's less the reserves.
    pub budget: Option<Memory>,
    /// How long a load waits for busy models to finish before it gives up.
    pub wait_for_room: Duration,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            max_models: None,
            reserve_ram: 2 * GIB,
            reserve_vram: GIB / 2,
            budget: None,
            wait_for_room: Duration::from_secs(60),
        }
    }
}

impl HostConfig {
    /// The most models kept loaded, the default filled in.
    pub fn max_models(&self) -> usize {
        self.max_models.unwrap_or(DEFAULT_MAX_MODELS).max(1)
    }

    /// The memory the models may use together: the override, else this machine's less the
    /// reserves.
    pub fn budget(&self) -> Memory {
        self.budget.unwrap_or_else(|| self.budget_on(&Hardware::detect()))
    }

    /// The budget on `hardware`, the override aside: its memory less the reserves.
    pub fn budget_on(&self, hardware: &Hardware) -> Memory {
        let vram: u64 = hardware.gpus.iter().map(|g| g.memory_total).sum();
        Memory {
            ram: hardware.ram_total.saturating_sub(self.reserve_ram),
            vram: vram.saturating_sub(self.reserve_vram),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ModelStatus {
    Loading,
    Loaded,
    /// Going: no new requests; it unloads once the ones it answers are done.
    Unloading,
}

/// A model the host holds, as the app and `sirocco ps` show it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ResidentModel {
    pub id: String,
    pub path: PathBuf,
    pub status: ModelStatus,
    pub loaded_by: LoadedBy,
    /// The planner's estimate for this load.
    pub memory: Memory,
    /// Requests and answers using it now.
    pub in_use: usize,
    /// Since when nothing has used it (Unix milliseconds); `None` while in use.
    pub idle_since_ms: Option<u64>,
    /// What the load reported, once loaded.
    pub model: Option<LoadedModel>,
    pub params: LoadParams,
    /// How long it stays once idle, when a client asked (Ollama's `keep_alive`).
    #[serde(skip)]
    #[ts(skip)]
    pub keep: KeepAlive,
}

/// How long a model the server loaded stays once nothing uses it, when a client said so
/// (Ollama's `keep_alive`); models the user loaded stay until ejected whatever clients say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeepAlive {
    /// The server's idle time-out.
    #[default]
    Default,
    For(Duration),
    Forever,
}

impl KeepAlive {
    /// The idle time after which it goes, given the server's (`None`: never).
    pub fn idle_limit(self, server: Option<Duration>) -> Option<Duration> {
        match self {
            KeepAlive::Default => server,
            KeepAlive::For(limit) => Some(limit),
            KeepAlive::Forever => None,
        }
    }
}

/// Why a model went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UnloadReason {
    /// Someone asked (eject, `POST /models/unload`).
    Asked,
    /// It made room for this model.
    Evicted { for_model: String },
    /// Nothing used it for the idle time-out.
    Idle,
    /// Loaded again with other settings.
    Replaced,
    /// The host is shutting down.
    Shutdown,
    /// Its engine process died (a worker it used went away): why, for the user.
    Stopped { message: String },
}

/// A load or an unload, as it happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum HostEvent {
    Loaded { id: String, loaded_by: LoadedBy },
    Unloaded { id: String, reason: UnloadReason },
    LoadFailed { id: String, message: String },
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum HostError {
    #[error("{id} is not loaded (loaded: {})", list(loaded))]
    NotLoaded { id: String, loaded: Vec<String> },
    #[error("no model is loaded")]
    NothingLoaded,
    #[error(
        "{id} does not fit beside the models loaded now ({}); eject one, or raise the memory Sirocco may use",
        list(in_the_way)
    )]
    NoRoom { id: String, in_the_way: Vec<String> },
    #[error("{id} does not fit until these finish answering: {}", list(busy))]
    Busy { id: String, busy: Vec<String> },
    #[error("could not load {id}: {message}")]
    LoadFailed { id: String, message: String, cancelled: bool },
}

fn list(ids: &[String]) -> String {
    if ids.is_empty() {
        "none".into()
    } else {
        ids.join(", ")
    }
}

/// The right to use a loaded model: while any lease on it lives, the model stays. Dropping it
/// marks the model used now.
pub struct Lease {
    host: Arc<Inner>,
    key: u64,
    id: String,
    engine: Engine,
    model: LoadedModel,
}

impl Lease {
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
    /// The model's id (as the library names it).
    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn model(&self) -> &LoadedModel {
        &self.model
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut state = self.host.lock();
        if let Some(slot) = state.slots.iter_mut().find(|s| s.key == self.key) {
            slot.leases -= 1;
            slot.last_used = Instant::now();
            if slot.leases == 0 {
                slot.idle_since = SystemTime::now();
            }
        }
        drop(state);
        self.host.changed();
    }
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease").field("id", &self.id).finish()
    }
}

struct Slot {
    key: u64,
    spec: ModelSpec,
    loaded_by: LoadedBy,
    status: ModelStatus,
    memory: Memory,
    leases: usize,
    last_used: Instant,
    idle_since: SystemTime,
    /// When the user last chose it (the model a request naming none gets).
    chosen: Instant,
    engine: Engine,
    model: Option<LoadedModel>,
    /// An unload has taken it (it finishes and forgets the slot).
    taken: bool,
    /// How long it stays loaded once idle, when a client asked (Ollama's `keep_alive`).
    keep: KeepAlive,
}

impl Slot {
    /// Marks it going and taken by the caller, who unloads it.
    fn take(&mut self) -> (u64, String, Engine) {
        self.status = ModelStatus::Unloading;
        self.taken = true;
        (self.key, self.spec.id.clone(), self.engine.clone())
    }

    fn resident(&self) -> ResidentModel {
        ResidentModel {
            id: self.spec.id.clone(),
            path: self.spec.path.clone(),
            status: self.status,
            loaded_by: self.loaded_by,
            memory: self.memory,
            in_use: self.leases,
            idle_since_ms: (self.leases == 0)
                .then(|| self.idle_since.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)),
            model: self.model.clone(),
            params: self.spec.params.clone(),
            keep: self.keep,
        }
    }

    fn occupant(&self) -> Occupant {
        Occupant {
            key: self.key,
            id: self.spec.id.clone(),
            loaded_by: self.loaded_by,
            memory: self.memory,
            busy: self.leases > 0 || self.status != ModelStatus::Loaded,
            going: self.status == ModelStatus::Unloading,
            last_used: self.last_used,
        }
    }
}

#[derive(Default)]
struct State {
    slots: Vec<Slot>,
    next_key: u64,
}

struct Inner {
    state: Mutex<State>,
    config: Mutex<HostConfig>,
    /// Woken on every change (a lease let go, a load done, a model gone).
    notify: Notify,
    resident: watch::Sender<Vec<ResidentModel>>,
    events: broadcast::Sender<HostEvent>,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Tells waiters and subscribers that something changed.
    fn changed(&self) {
        let snapshot: Vec<ResidentModel> = self.lock().slots.iter().map(Slot::resident).collect();
        self.resident.send_replace(snapshot);
        self.notify.notify_waiters();
    }

    fn event(&self, event: HostEvent) {
        tracing::info!(?event, "model host");
        let _ = self.events.send(event);
    }
}

/// The one owner of loaded models. Cheap to clone.
#[derive(Clone)]
pub struct ModelHost {
    inner: Arc<Inner>,
}

impl Default for ModelHost {
    fn default() -> Self {
        Self::new(HostConfig::default())
    }
}

/// What a load found for its model's id (each lives for one step of the host's loop).
#[allow(clippy::large_enum_variant)]
enum Step {
    Done(Lease),
    Replace((u64, String, Engine)),
    /// Wait for a change (bounded by the wait for room when true).
    Wait(Vec<String>, bool),
    Free,
}

/// What an unload found.
enum Unload {
    Gone,
    Marked,
    Finish((u64, String, Engine)),
    Wait,
}

/// What a lookup by id found.
#[allow(clippy::large_enum_variant)]
enum Found {
    Lease(Lease),
    /// Loading or going: ask again when something changes.
    Wait,
    Absent,
}

impl ModelHost {
    pub fn new(config: HostConfig) -> Self {
        let (resident, _) = watch::channel(Vec::new());
        let (events, _) = broadcast::channel(256);
        Self {
            inner: Arc::new(Inner {
                state: Mutex::default(),
                config: Mutex::new(config),
                notify: Notify::new(),
                resident,
                events,
            }),
        }
    }

    pub fn config(&self) -> HostConfig {
        self.inner.config.lock().unwrap().clone()
    }

    /// Changes the limits; they apply to the next load (nothing loaded is unloaded for them).
    pub fn set_config(&self, config: HostConfig) {
        *self.inner.config.lock().unwrap() = config;
    }

    /// What is loaded now, announced on every change.
    pub fn subscribe(&self) -> watch::Receiver<Vec<ResidentModel>> {
        self.inner.resident.subscribe()
    }

    /// Every load and unload from now on, with its reason.
    pub fn events(&self) -> broadcast::Receiver<HostEvent> {
        self.inner.events.subscribe()
    }

    pub fn resident(&self) -> Vec<ResidentModel> {
        self.inner.lock().slots.iter().map(Slot::resident).collect()
    }

    /// The ids of the models loaded (or loading) now.
    pub fn loaded_ids(&self) -> Vec<String> {
        self.inner
            .lock()
            .slots
            .iter()
            .filter(|s| s.status != ModelStatus::Unloading)
            .map(|s| s.spec.id.clone())
            .collect()
    }

    /// Loads `spec` for `by` (the same model with the same settings is kept, with another it
    /// is loaded again once nothing uses it), making room as [`make_room`] says. `progress`
    /// gets 0..=1; `cancel` stops the load.
    pub async fn load(
        &self,
        spec: ModelSpec,
        by: LoadedBy,
        progress: impl FnMut(f32) + Send + 'static,
        cancel: Arc<AtomicBool>,
    ) -> Result<LoadedModel, HostError> {
        let lease = self.load_leased(spec, by, Box::new(progress), cancel, true).await?;
        Ok(lease.model.clone())
    }

    /// A lease on model `id` if it is loaded (waiting while it loads).
    pub async fn lease(&self, id: &str) -> Result<Lease, HostError> {
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.find(id) {
                Found::Lease(lease) => return Ok(lease),
                Found::Absent => return Err(HostError::NotLoaded { id: id.to_owned(), loaded: self.loaded_ids() }),
                Found::Wait => notified.await,
            }
        }
    }

    /// A lease on `spec`'s model, loading it for the server first when it is not loaded (once,
    /// however many ask at the same time).
    pub async fn lease_or_load(&self, spec: ModelSpec) -> Result<Lease, HostError> {
        self.load_leased(spec, LoadedBy::Server, Box::new(|_| {}), Arc::new(AtomicBool::new(false)), false).await
    }

    /// A lease on `spec`'s model loaded with `spec`'s settings: one the server loaded with
    /// others is loaded again (once its answers are done). The caller keeps this from models the
    /// user loaded (a client's request never changes those).
    pub async fn lease_or_reload(&self, spec: ModelSpec) -> Result<Lease, HostError> {
        self.load_leased(spec, LoadedBy::Server, Box::new(|_| {}), Arc::new(AtomicBool::new(false)), true).await
    }

    /// A lease on the model a request that names none gets: the one the user chose last, else
    /// the one used last (waiting while the only one loads).
    pub async fn lease_default(&self) -> Result<Lease, HostError> {
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut state = self.inner.lock();
                if let Some(key) = default_slot(&state).map(|s| s.key) {
                    let lease = self.lease_slot(&mut state, key);
                    drop(state);
                    self.inner.changed();
                    return Ok(lease);
                }
                if !state.slots.iter().any(|s| s.status == ModelStatus::Loading) {
                    return Err(HostError::NothingLoaded);
                }
            }
            notified.await;
        }
    }

    /// The model a request that names none gets now (see [`Self::lease_default`]).
    pub fn default_model(&self) -> Option<ResidentModel> {
        default_slot(&self.inner.lock()).map(Slot::resident)
    }

    /// Unloads model `id` once the answers using it are done (new ones are not let in).
    pub async fn unload(&self, id: &str) -> Result<(), HostError> {
        self.unload_when_free(id, UnloadReason::Asked).await
    }

    /// How long model `id` stays once idle, as a client asked; only for a model the server
    /// loaded (false for others, and for no such model).
    pub fn keep_alive(&self, id: &str, keep: KeepAlive) -> bool {
        let mut state = self.inner.lock();
        let Some(slot) = state.slots.iter_mut().find(|s| s.spec.id == id && !s.taken) else { return false };
        if slot.loaded_by != LoadedBy::Server {
            return false;
        }
        slot.keep = keep;
        true
    }

    /// Unloads what the server loaded and nothing has used for its idle time: `idle` (the
    /// server's; `None`: never) or what a client asked ([`ModelHost::keep_alive`]). Returns
    /// their ids.
    pub async fn unload_idle(&self, idle: Option<Duration>) -> Vec<String> {
        let going: Vec<(u64, String, Engine)> = {
            let mut state = self.inner.lock();
            state
                .slots
                .iter_mut()
                .filter(|s| {
                    s.loaded_by == LoadedBy::Server
                        && s.status == ModelStatus::Loaded
                        && s.leases == 0
                        && s.keep.idle_limit(idle).is_some_and(|limit| s.last_used.elapsed() >= limit)
                })
                .map(Slot::take)
                .collect()
        };
        self.inner.changed();
        let mut ids = Vec::new();
        for (key, id, engine) in going {
            self.finish_unload(key, &id, engine, UnloadReason::Idle).await;
            ids.push(id);
        }
        ids
    }

    /// Unloads everything now (the app is closing): answers still running are stopped, and the
    /// conversations' caches are saved first.
    pub async fn unload_all(&self) {
        let going: Vec<(u64, String, Engine)> = {
            let mut state = self.inner.lock();
            state.slots.iter_mut().filter(|s| !s.taken && s.status != ModelStatus::Loading).map(Slot::take).collect()
        };
        self.inner.changed();
        for (key, id, engine) in going {
            self.finish_unload(key, &id, engine, UnloadReason::Shutdown).await;
        }
    }

    /// Saves conversation `key`'s KV state on every loaded model that holds it.
    pub async fn persist_state(&self, key: &str) -> bool {
        let engines: Vec<Engine> = self
            .inner
            .lock()
            .slots
            .iter()
            .filter(|s| s.status == ModelStatus::Loaded)
            .map(|s| s.engine.clone())
            .collect();
        let mut saved = false;
        for engine in engines {
            saved |= engine.persist_state(key.to_owned()).await.unwrap_or(false);
        }
        saved
    }

    fn find(&self, id: &str) -> Found {
        let mut state = self.inner.lock();
        let Some(slot) = state.slots.iter().find(|s| s.spec.id == id) else { return Found::Absent };
        match slot.status {
            ModelStatus::Loaded => {
                let key = slot.key;
                let lease = self.lease_slot(&mut state, key);
                drop(state);
                self.inner.changed();
                Found::Lease(lease)
            }
            ModelStatus::Loading | ModelStatus::Unloading => Found::Wait,
        }
    }

    fn lease_slot(&self, state: &mut State, key: u64) -> Lease {
        let slot = state.slots.iter_mut().find(|s| s.key == key).expect("the slot being leased exists");
        slot.leases += 1;
        slot.last_used = Instant::now();
        Lease {
            host: self.inner.clone(),
            key,
            id: slot.spec.id.clone(),
            engine: slot.engine.clone(),
            model: slot.model.clone().expect("a loaded slot has its model"),
        }
    }

    /// The load behind [`Self::load`] and [`Self::lease_or_load`]: returns with a lease on the
    /// model. `replace`: a model loaded under the same id with other settings is loaded again.
    async fn load_leased(
        &self,
        spec: ModelSpec,
        by: LoadedBy,
        progress: Box<dyn FnMut(f32) + Send>,
        cancel: Arc<AtomicBool>,
        replace: bool,
    ) -> Result<Lease, HostError> {
        let config = self.config();
        let deadline = tokio::time::Instant::now() + config.wait_for_room;
        // The load's memory and the budget, once read (the header; this machine's memory).
        let mut need: Option<(Memory, Memory)> = None;
        let mut progress = Some(progress);
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let step = {
                let mut state = self.inner.lock();
                match state.slots.iter_mut().find(|s| s.spec.id == spec.id) {
                    None => Step::Free,
                    Some(slot) => match slot.status {
                        // A server reload never takes a model the user loaded (it may have
                        // become theirs while the reload waited): theirs answers as it is.
                        ModelStatus::Loaded
                            if !replace
                                || slot.spec.params == spec.params
                                || (by == LoadedBy::Server && slot.loaded_by == LoadedBy::User) =>
                        {
                            if by == LoadedBy::User {
                                slot.loaded_by = LoadedBy::User;
                                slot.chosen = Instant::now();
                            }
                            let key = slot.key;
                            Step::Done(self.lease_slot(&mut state, key))
                        }
                        // Loaded with other settings and idle: it goes, then the new load.
                        ModelStatus::Loaded if slot.leases == 0 => Step::Replace(slot.take()),
                        // Answering with other settings: the reload waits for it (bounded).
                        ModelStatus::Loaded => Step::Wait(vec![spec.id.clone()], true),
                        // Loading (for another request: this one gets it too) or going.
                        _ => Step::Wait(vec![spec.id.clone()], false),
                    },
                }
            };
            let mut waiting_on = None;
            match step {
                Step::Done(lease) => {
                    self.inner.changed();
                    return Ok(lease);
                }
                Step::Replace((key, id, engine)) => {
                    self.inner.changed();
                    self.finish_unload(key, &id, engine, UnloadReason::Replaced).await;
                    continue;
                }
                Step::Wait(ids, bounded) => waiting_on = Some((ids, bounded)),
                Step::Free => {}
            }
            if waiting_on.is_none() {
                let (need, budget) = match need {
                    Some(need) => need,
                    None => {
                        let estimated = estimate(&spec, config.clone()).await.map_err(|e| self.failed(&spec.id, &e))?;
                        need = Some(estimated);
                        continue; // the state may have changed while the header was read
                    }
                };
                let room = {
                    let mut state = self.inner.lock();
                    let occupants: Vec<Occupant> = state.slots.iter().map(Slot::occupant).collect();
                    match make_room(&occupants, need, budget, config.max_models(), by) {
                        Room::Evict(keys) => {
                            let going: Vec<(u64, String, Engine)> =
                                state.slots.iter_mut().filter(|s| keys.contains(&s.key)).map(Slot::take).collect();
                            let key = state.next_key;
                            state.next_key += 1;
                            let engine = Engine::for_load(&spec.params);
                            self.watch_engine(key, &spec.id, &engine);
                            let now = Instant::now();
                            state.slots.push(Slot {
                                key,
                                spec: spec.clone(),
                                loaded_by: by,
                                status: ModelStatus::Loading,
                                memory: need,
                                leases: 0,
                                last_used: now,
                                idle_since: SystemTime::now(),
                                chosen: now,
                                engine: engine.clone(),
                                model: None,
                                taken: false,
                                keep: KeepAlive::Default,
                            });
                            Ok((key, engine, going))
                        }
                        other => Err(other),
                    }
                };
                match room {
                    Ok((key, engine, going)) => {
                        self.inner.changed();
                        for (old_key, id, old) in going {
                            self.finish_unload(old_key, &id, old, UnloadReason::Evicted { for_model: spec.id.clone() })
                                .await;
                        }
                        let progress = progress.take().expect("a load starts once");
                        return self.finish_load(key, &spec, by, engine, progress, cancel).await;
                    }
                    Err(Room::Full(in_the_way)) => return Err(HostError::NoRoom { id: spec.id.clone(), in_the_way }),
                    Err(Room::Wait(busy)) => waiting_on = Some((busy, true)),
                    Err(Room::Evict(_)) => unreachable!("handled above"),
                }
            }
            match waiting_on {
                Some((busy, true)) => {
                    if tokio::time::timeout_at(deadline, notified).await.is_err() {
                        return Err(HostError::Busy { id: spec.id.clone(), busy });
                    }
                }
                _ => notified.await,
            }
        }
    }

    async fn finish_load(
        &self,
        key: u64,
        spec: &ModelSpec,
        by: LoadedBy,
        engine: Engine,
        progress: Box<dyn FnMut(f32) + Send>,
        cancel: Arc<AtomicBool>,
    ) -> Result<Lease, HostError> {
        let loaded = engine.load(&spec.path, spec.params.clone(), progress, cancel).await;
        let mut state = self.inner.lock();
        match loaded {
            Ok(model) => {
                let Some(slot) = state.slots.iter_mut().find(|s| s.key == key) else {
                    // Its engine process died as the load finished (see `watch_engine`).
                    return Err(HostError::LoadFailed {
                        id: spec.id.clone(),
                        message: "the model stopped as it loaded".into(),
                        cancelled: false,
                    });
                };
                slot.status = ModelStatus::Loaded;
                slot.model = Some(model);
                let lease = self.lease_slot(&mut state, key);
                drop(state);
                self.inner.event(HostEvent::Loaded { id: spec.id.clone(), loaded_by: by });
                self.inner.changed();
                Ok(lease)
            }
            Err(e) => {
                state.slots.retain(|s| s.key != key);
                drop(state);
                let error = self.failed(&spec.id, &e);
                self.inner.changed();
                Err(error)
            }
        }
    }

    fn failed(&self, id: &str, e: &EngineError) -> HostError {
        let message = e.to_string();
        self.inner.event(HostEvent::LoadFailed { id: id.to_owned(), message: message.clone() });
        HostError::LoadFailed { id: id.to_owned(), message, cancelled: matches!(e, EngineError::LoadCancelled) }
    }

    async fn unload_when_free(&self, id: &str, reason: UnloadReason) -> Result<(), HostError> {
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let next = {
                let mut state = self.inner.lock();
                match state.slots.iter_mut().find(|s| s.spec.id == id) {
                    None => Unload::Gone,
                    Some(slot) if slot.status == ModelStatus::Loaded => {
                        // No new requests from here on.
                        slot.status = ModelStatus::Unloading;
                        Unload::Marked
                    }
                    Some(slot) if slot.status == ModelStatus::Unloading && slot.leases == 0 && !slot.taken => {
                        Unload::Finish(slot.take())
                    }
                    Some(_) => Unload::Wait,
                }
            };
            match next {
                Unload::Gone => return Ok(()),
                Unload::Marked => {
                    self.inner.changed();
                    continue;
                }
                Unload::Finish((key, id, engine)) => {
                    self.finish_unload(key, &id, engine, reason).await;
                    return Ok(());
                }
                Unload::Wait => {}
            }
            notified.await;
        }
    }

    /// Forgets the slot `key` when its engine stops on its own (an engine process that died:
    /// a worker lost mid-answer), telling subscribers why; the model can be loaded again.
    fn watch_engine(&self, key: u64, id: &str, engine: &Engine) {
        let stopped = engine.stopped();
        let (host, id) = (Arc::downgrade(&self.inner), id.to_owned());
        tokio::spawn(async move {
            let Some(message) = stopped.await else { return };
            let Some(inner) = host.upgrade() else { return };
            let gone = {
                let mut state = inner.lock();
                let before = state.slots.len();
                // A slot an unload has taken is forgotten (and announced) by that unload.
                state.slots.retain(|s| s.key != key || s.taken);
                state.slots.len() != before
            };
            if gone {
                inner.event(HostEvent::Unloaded { id, reason: UnloadReason::Stopped { message } });
                inner.changed();
            }
        });
    }

    /// Unloads a slot already marked as going, then forgets it.
    async fn finish_unload(&self, key: u64, id: &str, engine: Engine, reason: UnloadReason) {
        let _ = engine.unload().await;
        self.inner.lock().slots.retain(|s| s.key != key);
        self.inner.event(HostEvent::Unloaded { id: id.to_owned(), reason });
        self.inner.changed();
    }
}

/// The loaded model the user chose last, else the one used last.
fn default_slot(state: &State) -> Option<&Slot> {
    state.slots.iter().filter(|s| s.status == ModelStatus::Loaded).max_by_key(|s| {
        (s.loaded_by == LoadedBy::User, if s.loaded_by == LoadedBy::User { s.chosen } else { s.last_used })
    })
}

/// The planner's memory for loading `spec` (reads the file's header), and the budget for all
/// models together; off the async runtime.
async fn estimate(spec: &ModelSpec, config: HostConfig) -> Result<(Memory, Memory), EngineError> {
    let (path, params) = (spec.path.clone(), spec.params.clone());
    tokio::task::spawn_blocking(move || {
        let summary = sirocco_engine::gguf_file::inspect(&path)?;
        let mut estimate = planner::estimate_load(&summary, &params);
        // A vision projector comes into memory with the model.
        if let Some(projector) = &params.projector {
            estimate.projector_ram = planner::projector_memory(std::fs::metadata(projector).map_or(0, |m| m.len()));
        }
        let mut memory = Memory { ram: estimate.ram(), vram: estimate.vram() };
        // A draft model comes into memory with the model, its layers where the model's go.
        if let Some(draft) = params.drafting.draft_file() {
            let summary = sirocco_engine::gguf_file::inspect(draft)?;
            let gpu_layers = sirocco_engine::speculative::draft_gpu_layers(params.gpu_layers);
            let d = planner::estimate_load(&summary, &sirocco_engine::LoadParams { gpu_layers, ..params.clone() });
            memory.ram += d.ram();
            memory.vram += d.vram();
        }
        Ok((memory, config.budget()))
    })
    .await
    .unwrap_or(Err(EngineError::EngineGone))
}

#[cfg(test)]
mod send_check {
    fn is_send<T: Send>(_: T) {}
    #[allow(dead_code)]
    fn futures_are_send(host: super::ModelHost, spec: super::ModelSpec) {
        is_send(host.lease_or_load(spec.clone()));
        is_send(host.lease("x"));
        is_send(host.lease_default());
        is_send(host.unload("x"));
        is_send(host.unload_idle(Some(std::time::Duration::ZERO)));
        is_send(host.load(spec, super::LoadedBy::User, |_| {}, Default::default()));
    }
}

#[cfg(test)]
mod estimate_tests {
    use super::*;

    fn smollm2() -> std::path::PathBuf {
        let dir = std::env::var_os("SIROCCO_FIXTURES").map(std::path::PathBuf::from).unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/sirocco/fixtures")
        });
        dir.join("SmolLM2-135M-Instruct.Q4_1.gguf")
    }

    /// A draft model is counted with the model it drafts for: the room a load needs is both.
    #[tokio::test]
    async fn a_draft_model_counts_in_the_loads_memory() {
        use sirocco_engine::speculative::{DraftKind, Drafting};
        let path = smollm2();
        let spec = |drafting: Drafting| ModelSpec {
            id: "m".into(),
            path: path.clone(),
            params: sirocco_engine::LoadParams { context_length: Some(1024), drafting, ..Default::default() },
        };
        let (alone, _) = estimate(&spec(Drafting::default()), HostConfig::default()).await.unwrap();
        let ngrams = Drafting { kinds: vec![DraftKind::NgramMod], ..Default::default() };
        let (with_ngrams, _) = estimate(&spec(ngrams), HostConfig::default()).await.unwrap();
        assert_eq!(with_ngrams.ram, alone.ram, "n-grams bring no model");
        let pair =
            Drafting { kinds: vec![DraftKind::DraftSimple], draft_model: Some(path.clone()), ..Default::default() };
        let (with_draft, _) = estimate(&spec(pair), HostConfig::default()).await.unwrap();
        // The same file as its own draft: twice the memory, to the byte.
        assert_eq!(with_draft.ram, 2 * alone.ram);
        assert_eq!(with_draft.vram, 2 * alone.vram);
    }
}
