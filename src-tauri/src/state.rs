use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};

use std::collections::HashMap;

use sirocco_host::ModelHost;
use sirocco_hub::credentials::TokenStore;
use sirocco_hub::library::LibraryRoots;
use sirocco_hub::{Hub, HubConfig};
use sirocco_store::Store;

use crate::settings::Settings;

/// What the commands share: the model host, the Hub client, and the flags that cancel
/// long tasks (a load, each generation, each download).
pub struct AppState {
    /// The one owner of loaded models (shared with the local server).
    pub host: ModelHost,
    /// The Hub client for the endpoint and token set now (rebuilt when either changes).
    hub: RwLock<Hub>,
    /// Folders and single GGUF files the user added to the library.
    pub library_locations: RwLock<Vec<PathBuf>>,
    /// Conversations, presets and personas (SQLite in the app's data folder).
    pub store: Store,
    pub models_dir: PathBuf,
    /// Where conversations' KV state is kept between sessions.
    pub states_dir: PathBuf,
    /// The app's folders (shared with the CLI).
    pub folders: sirocco_folders::AppFolders,
    /// What a panic last time left, until the page asks for it.
    pub crash: Mutex<Option<sirocco_logs::CrashReport>>,
    pub load_cancel: Mutex<Arc<AtomicBool>>,
    /// Each answer's own stop flag, by the stream the page named (`chat`, `arena-0`…).
    pub generations: Mutex<HashMap<String, Arc<AtomicBool>>>,
    /// The download queue (persisted in the HF cache, shared with `sirocco pull`) and this
    /// process's running downloads.
    pub downloads: Arc<sirocco_hub::DownloadQueue>,
    /// Other machines (`sirocco worker`s) the user added, in order.
    pub workers: RwLock<Vec<crate::settings::WorkerEntry>>,
    /// The local OpenAI-compatible server, while it runs.
    pub server: tokio::sync::Mutex<Option<sirocco_server::RunningServer>>,
    /// The window asked to close and its conversations' caches are being saved.
    pub closing: std::sync::atomic::AtomicBool,
    /// MCP servers started for the chat (or checked on the Tools page), kept running.
    pub mcp: sirocco_mcp::McpPool,
    /// Tool calls waiting for the user's answer on the page.
    pub approvals: Arc<sirocco_chat::PendingApprovals>,
    /// Tools whose calls run without asking.
    pub allowed_tools: RwLock<Vec<crate::settings::AllowedTool>>,
}

impl AppState {
    /// The Hub's endpoint comes from the settings; unset, it and the token follow the Hugging
    /// Face conventions (`HF_ENDPOINT`, `HF_TOKEN`, `HF_HOME`) until [`Self::use_saved_token`]
    /// has read the keyring.
    pub fn new(
        folders: sirocco_folders::AppFolders,
        store: Store,
        settings: &Settings,
    ) -> Result<Self, sirocco_hub::HubError> {
        Ok(Self {
            host: ModelHost::new(settings.model_memory.host_config()),
            hub: RwLock::new(Hub::new(HubConfig { endpoint: settings.hub_endpoint.clone(), ..HubConfig::default() })?),
            library_locations: RwLock::new(settings.library_locations.clone()),
            store,
            models_dir: folders.models.clone(),
            states_dir: folders.kv_states(),
            crash: Mutex::new(sirocco_logs::take_crash_report(&folders.logs(), sirocco_logs::Program::App)),
            folders,
            load_cancel: Mutex::new(Arc::new(AtomicBool::new(false))),
            generations: Mutex::new(HashMap::new()),
            downloads: Arc::default(),
            workers: RwLock::new(settings.workers.clone()),
            server: tokio::sync::Mutex::new(None),
            closing: std::sync::atomic::AtomicBool::new(false),
            mcp: sirocco_mcp::McpPool::default(),
            approvals: Arc::default(),
            allowed_tools: RwLock::new(settings.allowed_tools.clone()),
        })
    }

    /// Reads the token saved in the system keyring and uses it from now on. Blocking (a D-Bus
    /// round trip, or longer while a locked keyring asks the user): run it off the start-up path.
    pub fn use_saved_token(&self, endpoint: Option<String>) {
        match TokenStore::new(KEYRING_SERVICE).get() {
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

    /// The workers a load with `gpu_layers` uses: the enabled ones, when any layer is offloaded
    /// (layers past the local GPUs go to them).
    pub fn workers_for(&self, gpu_layers: u32) -> Vec<String> {
        if gpu_layers == 0 {
            return Vec::new();
        }
        self.workers.read().unwrap().iter().filter(|w| w.enabled).map(|w| w.endpoint.clone()).collect()
    }

    /// The library's id for the model file `path` (how the host and the server name it).
    pub async fn model_id(&self, path: &std::path::Path) -> String {
        let (roots, path) = (self.library_roots(), path.to_path_buf());
        tauri::async_runtime::spawn_blocking(move || sirocco_hub::library::id_of(&roots, &path))
            .await
            .unwrap_or_default()
    }

    /// A lease on the model file `path` (loaded), or on the user's model when none is named.
    pub async fn lease(&self, path: Option<&std::path::Path>) -> Result<sirocco_host::Lease, sirocco_host::HostError> {
        match path {
            Some(path) => self.host.lease(&self.model_id(path).await).await,
            None => self.host.lease_default().await,
        }
    }

    /// Where local models are (the same library the CLI sees: `LibraryRoots::of_app`).
    pub fn library_roots(&self) -> LibraryRoots {
        LibraryRoots::of_app(
            self.hub().cache_dir().to_path_buf(),
            self.models_dir.clone(),
            &self.library_locations.read().unwrap(),
        )
    }
}

/// The app's name in the system keyring (its identifier).
pub const KEYRING_SERVICE: &str = sirocco_folders::APP_IDENTIFIER;
