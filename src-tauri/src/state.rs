use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use sirocco_engine::Engine;
use tauri::Manager;

/// What the commands share: the engine handle and the flags that cancel its long tasks.
pub struct AppState {
    pub engine: Engine,
    pub models_dir: PathBuf,
    pub load_cancel: Mutex<Arc<AtomicBool>>,
    pub generation_cancel: Mutex<Option<Arc<AtomicBool>>>,
}

impl AppState {
    pub fn new(models_dir: PathBuf) -> Self {
        Self {
            engine: Engine::start(),
            models_dir,
            load_cancel: Mutex::new(Arc::new(AtomicBool::new(false))),
            generation_cancel: Mutex::new(None),
        }
    }
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
