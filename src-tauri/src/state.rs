use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};

use std::collections::HashMap;

use sirocco_engine::Engine;
use sirocco_hub::library::LibraryRoots;
use sirocco_hub::credentials::TokenStore;
use sirocco_hub::{Hub, HubConfig};
use sirocco_store::Store;
use tauri::Manager;

/// What the commands share: the engine handle, the Hub client, and the flags that cancel
/// long tasks (a load, a generation, each download).
pub struct AppState {
    pub engine: Engine,
    /// The Hub client for the endpoint and token set now (rebuilt when either changes).
    hub: RwLock<Hub>,
    /// Folders and single GGUF files the user added to the library.
    pub library_locations: RwLock<Vec<PathBuf>>,
    /// Conversations, presets and personas (SQLite in the app's data folder).
    pub store: Store,
    pub models_dir: PathBuf,
    /// Where conversations' KV state is kept between sessions.
    pub states_dir: PathBuf,
    pub load_cancel: Mutex<Arc<AtomicBool>>,
    pub generation_cancel: Mutex<Option<Arc<AtomicBool>>>,
    pub downloads: Mutex<HashMap<String, Arc<AtomicBool>>>,
    /// The local OpenAI-compatible server, while it runs.
    pub server: tokio::sync::Mutex<Option<sirocco_server::RunningServer>>,
    /// The model the engine has loaded, as the server names it.
    pub served: Mutex<Option<sirocco_server::ServedModel>>,
    /// The window asked to close and its conversations' caches are being saved.
    pub closing: std::sync::atomic::AtomicBool,
}

impl AppState {
    /// The Hub's endpoint comes from the settings; unset, it and the token follow the Hugging
    /// Face conventions (`HF_ENDPOINT`, `HF_TOKEN`, `HF_HOME`) until [`Self::use_saved_token`]
    /// has read the keyring.
    pub fn new(models_dir: PathBuf, data_dir: &std::path::Path, store: Store, settings: &Settings) -> Result<Self, sirocco_hub::HubError> {
        Ok(Self {
            engine: Engine::start(),
            hub: RwLock::new(Hub::new(HubConfig { endpoint: settings.hub_endpoint.clone(), ..HubConfig::default() })?),
            library_locations: RwLock::new(settings.library_locations.clone()),
            store,
            models_dir,
            states_dir: data_dir.join("kv-states"),
            load_cancel: Mutex::new(Arc::new(AtomicBool::new(false))),
            generation_cancel: Mutex::new(None),
            downloads: Mutex::new(HashMap::new()),
            server: tokio::sync::Mutex::new(None),
            served: Mutex::new(None),
            closing: std::sync::atomic::AtomicBool::new(false),
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

    /// Records what the engine has loaded and tells a running server.
    pub async fn set_served(&self, model: Option<sirocco_server::ServedModel>) {
        *self.served.lock().unwrap() = model.clone();
        if let Some(server) = self.server.lock().await.as_ref() {
            server.set_model(model);
        }
    }

    /// Where local models are: downloads (the HF cache), the models folder, what the user added,
    /// LM Studio, Ollama.
    pub fn library_roots(&self) -> LibraryRoots {
        let roots = LibraryRoots {
            hf_cache: Some(self.hub().cache_dir().to_path_buf()),
            folders: vec![self.models_dir.clone()],
            ..LibraryRoots::default()
        }
        .with_locations(&self.library_locations.read().unwrap());
        match std::env::var_os("HOME") {
            Some(home) => roots.detect_other_apps(&PathBuf::from(home)),
            None => roots,
        }
    }
}

/// The app's name in the system keyring (its identifier).
pub const KEYRING_SERVICE: &str = "dev.sirocco.app";

/// What the app reads from its settings file at start.
pub struct Settings {
    pub hub_endpoint: Option<String>,
    pub library_locations: Vec<PathBuf>,
}

/// `SIROCCO_DATA_DIR`, else the app's data folder: where the database lives.
pub fn data_dir(app: &tauri::AppHandle) -> PathBuf {
    if let Some(dir) = std::env::var_os("SIROCCO_DATA_DIR") {
        return PathBuf::from(dir);
    }
    app.path().app_data_dir().unwrap_or_else(|_| PathBuf::from("."))
}

/// `SIROCCO_MODELS_DIR`, else `<app data>/models`.
pub fn models_dir(app: &tauri::AppHandle) -> PathBuf {
    if let Some(dir) = std::env::var_os("SIROCCO_MODELS_DIR") {
        return PathBuf::from(dir);
    }
    app.path()
        .app_data_dir()
        .map(|d| d.join("models"))
        .unwrap_or_else(|_| PathBuf::from("models"))
}
