//! The settings file through tauri-plugin-store: the app's side of
//! `sirocco_runtime::settings`, which holds the file's layout (keys, types, defaults) for the
//! app and the CLI alike. The page keeps its own keys (theme, last preset…) in the same store.
//! Secrets never go here: they live in the system keyring.

use std::path::PathBuf;

use serde_json::Value;
use sirocco_runtime::settings::{keys, FILE};
use tauri::AppHandle;
use tauri_plugin_store::StoreExt;

pub use sirocco_runtime::settings::AllowedTool;
pub use sirocco_runtime::{BackgroundSettings, ModelMemory, ServerSettings, Settings, WorkerEntry};

/// What is saved (a missing or unreadable file gives the defaults).
pub fn read(app: &AppHandle) -> Settings {
    match app.store(FILE) {
        Ok(store) => Settings::from_entries(|key| store.get(key)),
        Err(_) => Settings::default(),
    }
}

/// The local server's settings it was last started with (its key is in the keyring, not here).
pub fn save_server(app: &AppHandle, server: &ServerSettings) -> Result<(), String> {
    save(app, keys::SERVER, serde_json::json!(server))
}

pub fn read_server(app: &AppHandle) -> Option<ServerSettings> {
    read(app).server
}

pub fn save_background(app: &AppHandle, background: &BackgroundSettings) -> Result<(), String> {
    save(app, keys::BACKGROUND, serde_json::json!(background))
}

pub fn save_allowed_tools(app: &AppHandle, allowed: &[AllowedTool]) -> Result<(), String> {
    save(app, keys::ALLOWED_TOOLS, serde_json::json!(allowed))
}

pub fn save_workers(app: &AppHandle, workers: &[WorkerEntry]) -> Result<(), String> {
    save(app, keys::WORKERS, serde_json::json!(workers))
}

pub fn save_model_memory(app: &AppHandle, memory: &ModelMemory) -> Result<(), String> {
    save(app, keys::MODEL_MEMORY, serde_json::json!(memory))
}

pub fn save_hub_endpoint(app: &AppHandle, endpoint: Option<&str>) -> Result<(), String> {
    save(app, keys::HUB_ENDPOINT, serde_json::json!(endpoint.unwrap_or("")))
}

pub fn save_library_locations(app: &AppHandle, locations: &[PathBuf]) -> Result<(), String> {
    save(app, keys::LIBRARY_LOCATIONS, serde_json::json!(locations))
}

fn save(app: &AppHandle, key: &str, value: Value) -> Result<(), String> {
    let store = app.store(FILE).map_err(|e| format!("the settings file: {e}"))?;
    store.set(key, value);
    store.save().map_err(|e| format!("could not save the settings: {e}"))
}
