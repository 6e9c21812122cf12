//! [`Runtime`]: one running Sirocco — its folders, store, model host, Hub client, library,
//! other machines, MCP servers and local server — opened the same way by the app and the CLI
//! ([`Runtime::open`]). The app adds only what its window needs (the page's streams and
//! approvals); `sirocco serve` and `sirocco chat` add only their arguments.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use sirocco_engine::LoadParams;
use sirocco_folders::AppFolders;
use sirocco_host::ModelHost;
use sirocco_hub::library::LibraryRoots;
use sirocco_hub::{DownloadQueue, Hub, HubConfig, HubError};
use sirocco_mcp::{AllowedTool, McpPool};
use sirocco_server::{Catalog, OnDemand, RequestLog, RunningServer, ServerConfig, ServerError};
use sirocco_store::Store;

use crate::settings::{ServerSettings, Settings, WorkerEntry};

/// Why a runtime could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{}: {source}", path.display())]
    Folder { path: PathBuf, source: std::io::Error },
    #[error("{}: {source}", path.display())]
    Store { path: PathBuf, source: sirocco_store::StoreError },
    #[error(transparent)]
    Hub(#[from] HubError),
}

/// A running Sirocco (see the module's doc). Shared as an `Arc`: the server's library listing
/// reads it as requests come.
pub struct Runtime {
    pub folders: AppFolders,
    /// Conversations, presets, personas and kept Responses answers.
    pub store: Store,
    /// The one owner of loaded models (the window's and the server's alike).
    pub host: ModelHost,
    /// The Hub client for the endpoint and token set now (replaced when either changes).
    hub: RwLock<Hub>,
    /// Folders and single GGUF files the user added to the library.
    pub library_locations: RwLock<Vec<PathBuf>>,
    /// Folders named for this run only (`sirocco serve --dir`), after the library's own.
    extra_folders: Vec<PathBuf>,
    /// The download queue (persisted in the HF cache, shared with `sirocco pull`) and this
    /// process's running downloads.
    pub downloads: Arc<DownloadQueue>,
    /// Other machines (`sirocco worker`s) the user added, in order.
    pub workers: RwLock<Vec<WorkerEntry>>,
    /// MCP servers started for the chat (or checked), kept running.
    pub mcp: McpPool,
    /// Tools whose calls run without asking.
    pub allowed_tools: RwLock<Vec<AllowedTool>>,
    /// The local server, while it runs (and its second listener on Ollama's port, if any).
    server: tokio::sync::Mutex<Option<(RunningServer, Option<RunningServer>)>>,
    /// Each answer's stop flag, by the stream it runs under (`chat`, `arena-0`…; see
    /// `answers.rs`).
    pub(crate) generations: Mutex<HashMap<String, Arc<AtomicBool>>>,
}

impl Runtime {
    /// Opens the data folder of `folders` (created when missing) and its store, with
    /// `settings` (the settings file as read: [`Settings::of_app`], or the app's store's
    /// entries). The Hub token is read from the keyring later ([`Self::use_saved_token`]): a
    /// keyring can take long to answer.
    pub async fn open(folders: AppFolders, settings: &Settings) -> Result<Arc<Self>, OpenError> {
        Self::open_with_folders(folders, settings, Vec::new()).await
    }

    /// [`Self::open`] with `extra` folders added to the library for this run (the CLI's `--dir`).
    pub async fn open_with_folders(
        folders: AppFolders,
        settings: &Settings,
        extra: Vec<PathBuf>,
    ) -> Result<Arc<Self>, OpenError> {
        std::fs::create_dir_all(&folders.data)
            .map_err(|source| OpenError::Folder { path: folders.data.clone(), source })?;
        let path = folders.database();
        let store = Store::open(&path).await.map_err(|source| OpenError::Store { path, source })?;
        Ok(Arc::new(Self {
            host: ModelHost::new(settings.model_memory.host_config()),
            hub: RwLock::new(hub_of(settings, None)?),
            library_locations: RwLock::new(settings.library_locations.clone()),
            extra_folders: extra,
            store,
            folders,
            downloads: Arc::default(),
            workers: RwLock::new(settings.workers.clone()),
            mcp: McpPool::default(),
            allowed_tools: RwLock::new(settings.allowed_tools.clone()),
            server: tokio::sync::Mutex::new(None),
            generations: Mutex::default(),
        }))
    }

    /// Reads the Hub token saved in the keyring and uses it from now on, with the endpoint
    /// `endpoint`. Blocking for as long as the keyring takes: run it off any start-up path.
    pub async fn use_saved_token(&self, endpoint: Option<String>) {
        match crate::secrets::hub_token().await {
            Ok(Some(token)) => match Hub::new(HubConfig { endpoint, token: Some(token), ..HubConfig::default() }) {
                Ok(hub) => self.set_hub(hub),
                Err(e) => tracing::warn!("Hub with the saved token: {e}"),
            },
            Ok(None) => {}
            Err(e) => tracing::warn!("Hub token: {e}"),
        }
    }

    /// The Hub client as configured now.
    pub fn hub(&self) -> Hub {
        self.hub.read().unwrap().clone()
    }

    /// Replaces the Hub client (a new endpoint or token); requests under way finish on the old one.
    pub fn set_hub(&self, hub: Hub) {
        *self.hub.write().unwrap() = hub;
    }

    /// Where local models are: the library the app's picker and `sirocco models` list
    /// (`LibraryRoots::of_app`), and this run's extra folders.
    pub fn library_roots(&self) -> LibraryRoots {
        LibraryRoots::of_app(
            self.hub().cache_dir().to_path_buf(),
            self.folders.models.clone(),
            &self.library_locations.read().unwrap(),
        )
        .with_folders(&self.extra_folders)
    }

    /// The library's id for the model file `path` (how the host and the server name it).
    pub async fn model_id(&self, path: &Path) -> String {
        let (roots, path) = (self.library_roots(), path.to_path_buf());
        tokio::task::spawn_blocking(move || sirocco_hub::library::id_of(&roots, &path)).await.unwrap_or_default()
    }

    /// A lease on the model file `path` (loaded), or on the user's model when none is named.
    pub async fn lease(&self, path: Option<&Path>) -> Result<sirocco_host::Lease, sirocco_host::HostError> {
        match path {
            Some(path) => self.host.lease(&self.model_id(path).await).await,
            None => self.host.lease_default().await,
        }
    }

    /// The workers a load with `gpu_layers` uses: the enabled ones, when any layer is offloaded
    /// (layers past the local GPUs go to them).
    pub fn workers_for(&self, gpu_layers: u32) -> Vec<String> {
        if gpu_layers == 0 {
            return Vec::new();
        }
        self.workers.read().unwrap().iter().filter(|w| w.enabled).map(|w| w.endpoint.clone()).collect()
    }

    /// The library as the server offers it, read afresh as requests come: each model fitted to
    /// this machine over `base`, with its saved settings (its default preset's load fields) on
    /// top.
    pub fn catalog(self: &Arc<Self>, base: LoadParams) -> Catalog {
        let runtime = Arc::clone(self);
        Arc::new(move || {
            let (runtime, base) = (Arc::clone(&runtime), base.clone());
            Box::pin(async move {
                sirocco_server::library_catalog(runtime.library_roots(), Some(&runtime.store), &base).await
            })
        })
    }

    /// Starts the local server as `serving` says, serving this runtime's host (a server already
    /// running is stopped first). It runs on its own one-thread tokio runtime (see
    /// [`server_runtime`]). Answers the address it listens on.
    pub async fn start_server(self: &Arc<Self>, serving: Serving) -> Result<SocketAddr, ServerError> {
        let mut running = self.server.lock().await;
        if let Some((old, second)) = running.take() {
            old.stop().await;
            if let Some(second) = second {
                second.stop().await;
            }
        }
        // Serving the library, clients may also add to it (Ollama's pull) and delete downloads.
        let hub = serving.on_demand.is_some().then(|| {
            let (for_hub, for_roots) = (Arc::clone(self), Arc::clone(self));
            sirocco_server::pull::HubAccess {
                hub: Arc::new(move || for_hub.hub()),
                queue: self.downloads.clone(),
                roots: Arc::new(move || for_roots.library_roots()),
            }
        });
        let config = ServerConfig {
            hub,
            on_demand: serving
                .on_demand
                .map(|base| OnDemand { catalog: self.catalog(base), idle_unload: serving.idle_unload }),
            addr: serving.addr.unwrap_or(ServerConfig::default().addr),
            api_key: serving.api_key.filter(|k| !k.trim().is_empty()),
            cors_origins: serving.cors_origins,
            trusted_hosts: serving.trusted_hosts,
            on_request: serving.on_request,
            store: Some(self.store.clone()),
            fetch_images: serving.fetch_images,
            ..ServerConfig::default()
        };
        let server = server_runtime()
            .spawn(sirocco_server::start(config.clone(), self.host.clone()))
            .await
            .unwrap_or_else(|e| Err(ServerError::Stopped(e.to_string())))?;
        let addr = server.addr;
        tracing::info!(%addr, "the local server is running");
        // The same server on Ollama's port too, when asked and free (Ollama itself may hold it).
        let ollama = match serving.ollama_port {
            Some(port) => {
                let config = ServerConfig { addr: SocketAddr::new(addr.ip(), port), ..config };
                let started = server_runtime().spawn(sirocco_server::start(config, self.host.clone())).await;
                match started.map_err(|e| e.to_string()).and_then(|r| r.map_err(|e| e.to_string())) {
                    Ok(second) => {
                        tracing::info!(addr = %second.addr, "also on Ollama's port");
                        Some(second)
                    }
                    Err(e) => {
                        tracing::warn!("not serving on Ollama's port: {e}");
                        None
                    }
                }
            }
            None => None,
        };
        *running = Some((server, ollama));
        Ok(addr)
    }

    /// Stops the local server (nothing when it is not running).
    pub async fn stop_server(&self) {
        if let Some((server, second)) = self.server.lock().await.take() {
            server.stop().await;
            if let Some(second) = second {
                second.stop().await;
            }
        }
    }

    /// Where the local server listens, while it runs.
    pub async fn server_addr(&self) -> Option<SocketAddr> {
        self.server.lock().await.as_ref().map(|(s, _)| s.addr)
    }

    /// Where it also listens on Ollama's port, when it does.
    pub async fn ollama_addr(&self) -> Option<SocketAddr> {
        self.server.lock().await.as_ref().and_then(|(_, second)| second.as_ref().map(|s| s.addr))
    }

    /// What this runtime is doing for someone now: serving, answering, downloading.
    pub async fn activity(&self) -> Activity {
        Activity {
            serving: self.server_addr().await,
            answers: self.generations.lock().unwrap().len(),
            downloads: self.downloads.running_count(),
        }
    }
}

/// What a running Sirocco is doing for someone ([`Runtime::activity`]): closing the window
/// while it does any of it keeps Sirocco running (as the user's setting says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Activity {
    /// The local server's address, while it runs.
    pub serving: Option<SocketAddr>,
    /// Answers streaming now.
    pub answers: usize,
    /// Downloads running now.
    pub downloads: usize,
}

impl Activity {
    pub fn is_idle(&self) -> bool {
        self.serving.is_none() && self.answers == 0 && self.downloads == 0
    }
}

/// Whether Sirocco (another process: the service, a `sirocco serve`, another data folder's
/// app) serves `addr` now: its `/health` says so within a second. An address on every
/// interface is asked on this machine's loopback.
pub async fn sirocco_serves(addr: SocketAddr) -> bool {
    let probe = SocketAddr::new(
        if addr.ip().is_unspecified() { std::net::Ipv4Addr::LOCALHOST.into() } else { addr.ip() },
        addr.port(),
    );
    let health = async {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(1)).no_proxy().build().ok()?;
        let body: serde_json::Value =
            client.get(format!("http://{probe}/health")).send().await.ok()?.json().await.ok()?;
        Some(body["server"] == "sirocco")
    };
    health.await == Some(true)
}

/// The Hub client `settings` name (their endpoint; none: Hugging Face's conventions,
/// `HF_ENDPOINT`, `HF_TOKEN`, `HF_HOME`), with `token` when given.
pub fn hub_of(settings: &Settings, token: Option<String>) -> Result<Hub, HubError> {
    Hub::new(HubConfig { endpoint: settings.hub_endpoint.clone(), token, ..HubConfig::default() })
}

/// Ollama's port, where its clients look by default.
pub const OLLAMA_PORT: u16 = 11434;

/// How the local server serves: where, for whom, and what it loads by itself.
#[derive(Clone, Default)]
pub struct Serving {
    /// None: 127.0.0.1:1234.
    pub addr: Option<SocketAddr>,
    /// Needed on every request but `/health` when set (blank: none).
    pub api_key: Option<String>,
    pub cors_origins: Vec<String>,
    pub trusted_hosts: Vec<String>,
    pub fetch_images: bool,
    /// Library models a request names are loaded over these settings (none: only the models
    /// loaded answer).
    pub on_demand: Option<LoadParams>,
    /// Models the server loaded are unloaded after this long without requests.
    pub idle_unload: Option<Duration>,
    /// Told of every request (the app's live log).
    pub on_request: Option<RequestLog>,
    /// Also listen on this port (Ollama's, 11434, for its clients), if it is free.
    pub ollama_port: Option<u16>,
}

impl Serving {
    /// As the app's saved server settings say, loading on demand over `base`.
    pub fn from_settings(settings: ServerSettings, base: LoadParams) -> Self {
        let ip = if settings.lan { std::net::Ipv4Addr::UNSPECIFIED } else { std::net::Ipv4Addr::LOCALHOST };
        Self {
            addr: Some(SocketAddr::from((ip, settings.port))),
            api_key: settings.api_key,
            cors_origins: settings.cors_origins,
            trusted_hosts: settings.trusted_hosts,
            fetch_images: settings.fetch_images,
            on_demand: settings.on_demand.then_some(base),
            idle_unload: (settings.idle_minutes > 0)
                .then(|| Duration::from_secs(u64::from(settings.idle_minutes) * 60)),
            on_request: None,
            ollama_port: settings.ollama_port.then_some(OLLAMA_PORT),
        }
    }
}

/// The server's own runtime: one worker. HTTP needs little, and on a machine with few cores
/// every extra busy thread preempts llama.cpp's, whose threads wait for each other each step
/// (measured with `sirocco bench-server`).
fn server_runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("sirocco-server")
            .enable_all()
            .build()
            .expect("a one-thread runtime starts")
    })
}
