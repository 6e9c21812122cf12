use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use std::collections::HashMap;

use sirocco_engine::Engine;
use sirocco_hub::library::LibraryRoots;
use sirocco_hub::{Hub, HubConfig};
use sirocco_store::Store;
use tauri::Manager;

/// What the commands share: the engine handle, the Hub client, and the flags that cancel
/// long tasks (a load, a generation, each download).
pub struct AppState {
    pub engine: Engine,
    pub hub: Hub,
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
    /// The Hub follows the Hugging Face conventions (`HF_ENDPOINT`, `HF_TOKEN`, `HF_HOME`).
    pub fn new(models_dir: PathBuf, data_dir: &std::path::Path, store: Store) -> Result<Self, sirocco_hub::HubError> {
        Ok(Self {
            engine: Engine::start(),
            hub: Hub::new(HubConfig::default())?,
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

    /// Records what the engine has loaded and tells a running server.
    pub async fn set_served(&self, model: Option<sirocco_server::ServedModel>) {
        *self.served.lock().unwrap() = model.clone();
        if let Some(server) = self.server.lock().await.as_ref() {
            server.set_model(model);
        }
    }

    /// Where local models are: downloads (the HF cache), the models folder, LM Studio, Ollama.
    pub fn library_roots(&self) -> LibraryRoots {
        let roots = LibraryRoots {
            hf_cache: Some(self.hub.cache_dir().to_path_buf()),
            folders: vec![self.models_dir.clone()],
            ..LibraryRoots::default()
        };
        match std::env::var_os("HOME") {
            Some(home) => roots.detect_other_apps(&PathBuf::from(home)),
            None => roots,
        }
    }
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
