//! The settings the Rust side reads: tauri-plugin-store's `settings.json` in the app's data
//! folder, the same store the page keeps its own settings in (theme, last preset…). Secrets
//! never go here: the Hub token lives in the system keyring.

use std::path::PathBuf;

use tauri::AppHandle;
use tauri_plugin_store::StoreExt;

use crate::state::Settings;

pub const FILE: &str = "settings.json";
const HUB_ENDPOINT: &str = "hubEndpoint";
const LIBRARY_LOCATIONS: &str = "libraryLocations";

/// What is saved (a missing or unreadable file gives the defaults).
pub fn read(app: &AppHandle) -> Settings {
    let Ok(store) = app.store(FILE) else {
        return Settings { hub_endpoint: None, library_locations: Vec::new() };
    };
    let hub_endpoint = store.get(HUB_ENDPOINT).and_then(|v| v.as_str().map(str::to_owned)).filter(|s| !s.is_empty());
    let library_locations = store
        .get(LIBRARY_LOCATIONS)
        .and_then(|v| serde_json::from_value::<Vec<PathBuf>>(v).ok())
        .unwrap_or_default();
    Settings { hub_endpoint, library_locations }
}

pub fn save_hub_endpoint(app: &AppHandle, endpoint: Option<&str>) -> Result<(), String> {
    save(app, HUB_ENDPOINT, serde_json::json!(endpoint.unwrap_or("")))
}

pub fn save_library_locations(app: &AppHandle, locations: &[PathBuf]) -> Result<(), String> {
    save(app, LIBRARY_LOCATIONS, serde_json::json!(locations))
}

fn save(app: &AppHandle, key: &str, value: serde_json::Value) -> Result<(), String> {
    let store = app.store(FILE).map_err(|e| format!("the settings file: {e}"))?;
    store.set(key, value);
    store.save().map_err(|e| format!("could not save the settings: {e}"))
}
