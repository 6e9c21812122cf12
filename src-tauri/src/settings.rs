//! The settings the Rust side reads: tauri-plugin-store's `settings.json` in the app's data
//! folder, the same store the page keeps its own settings in (theme, last preset…). Secrets
//! never go here: the Hub token lives in the system keyring.

use std::path::PathBuf;

use tauri::AppHandle;
use tauri_plugin_store::StoreExt;

pub const FILE: &str = "settings.json";
const HUB_ENDPOINT: &str = "hubEndpoint";
const LIBRARY_LOCATIONS: &str = "libraryLocations";
const MODEL_MEMORY: &str = "modelMemory";
const WORKERS: &str = "workers";
const ALLOWED_TOOLS: &str = "allowedTools";
const SERVER: &str = "server";

/// A tool the user allowed always, kept under `allowedTools`: bound to its server's identity
/// (`sirocco_mcp::fingerprint`). Entries saved before that, without one, are read but hold for
/// no server: their tools are asked about again, and they are dropped as the list is next saved.
pub use sirocco_mcp::AllowedTool;

/// Another machine running `sirocco worker`, as the user added it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WorkerEntry {
    /// `host:port`.
    pub endpoint: String,
    /// Loads with GPU layers use it.
    pub enabled: bool,
}

/// How many models stay loaded and how much RAM they leave free (the host's limits).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct ModelMemory {
    /// `None`: as many as fit, at most `sirocco_host::DEFAULT_MAX_MODELS`.
    pub max_models: Option<usize>,
    /// RAM left free for everything else, in bytes.
    pub reserve_ram: u64,
}

impl Default for ModelMemory {
    fn default() -> Self {
        let defaults = sirocco_host::HostConfig::default();
        Self { max_models: defaults.max_models, reserve_ram: defaults.reserve_ram }
    }
}

impl ModelMemory {
    pub fn host_config(&self) -> sirocco_host::HostConfig {
        sirocco_host::HostConfig {
            max_models: self.max_models,
            reserve_ram: self.reserve_ram,
            ..sirocco_host::HostConfig::default()
        }
    }
}

/// What the app reads from its settings file at start.
pub struct Settings {
    pub hub_endpoint: Option<String>,
    pub library_locations: Vec<PathBuf>,
    pub model_memory: ModelMemory,
    pub workers: Vec<WorkerEntry>,
    pub allowed_tools: Vec<AllowedTool>,
}

/// The local server's settings, kept under `server` (its key is in the keyring, not here).
#[derive(Clone, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct ServerSettings {
    pub port: u16,
    /// Listen on every interface (requires `api_key`).
    pub lan: bool,
    pub api_key: Option<String>,
    /// Web pages allowed to call the server from a browser (CORS), beyond pages on this
    /// machine; none by default.
    #[serde(default)]
    pub cors_origins: Vec<String>,
    /// Host names requests may name the server by, beyond 127.0.0.1, localhost and [::1] (and,
    /// on the network, this machine's addresses and name); none by default.
    #[serde(default)]
    pub trusted_hosts: Vec<String>,
    /// Requests may name any library model; it is loaded with its own saved settings.
    #[serde(default = "yes")]
    pub on_demand: bool,
    /// A model loaded on demand is unloaded after this many idle minutes (0: never).
    #[serde(default = "an_hour")]
    pub idle_minutes: u32,
    /// Start the server when Sirocco opens, with these settings.
    #[serde(default)]
    pub start_at_launch: bool,
    /// Fetch images that requests name by a web address (off: refused, nothing fetched).
    #[serde(default)]
    pub fetch_images: bool,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            port: 1234,
            lan: false,
            api_key: None,
            cors_origins: Vec::new(),
            trusted_hosts: Vec::new(),
            on_demand: true,
            idle_minutes: 60,
            start_at_launch: false,
            fetch_images: false,
        }
    }
}

fn yes() -> bool {
    true
}

fn an_hour() -> u32 {
    60
}

/// What is saved (a missing or unreadable file gives the defaults).
pub fn read(app: &AppHandle) -> Settings {
    let Ok(store) = app.store(FILE) else {
        return Settings {
            hub_endpoint: None,
            library_locations: Vec::new(),
            model_memory: ModelMemory::default(),
            workers: Vec::new(),
            allowed_tools: Vec::new(),
        };
    };
    let hub_endpoint = store.get(HUB_ENDPOINT).and_then(|v| v.as_str().map(str::to_owned)).filter(|s| !s.is_empty());
    let library_locations =
        store.get(LIBRARY_LOCATIONS).and_then(|v| serde_json::from_value::<Vec<PathBuf>>(v).ok()).unwrap_or_default();
    let model_memory = store.get(MODEL_MEMORY).and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default();
    let workers = store.get(WORKERS).and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default();
    let allowed_tools = store.get(ALLOWED_TOOLS).and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default();
    Settings { hub_endpoint, library_locations, model_memory, workers, allowed_tools }
}

/// The local server's settings it was last started with (its key is in the keyring, not here).
pub fn save_server(app: &AppHandle, server: &ServerSettings) -> Result<(), String> {
    save(app, SERVER, serde_json::json!(server))
}

pub fn read_server(app: &AppHandle) -> Option<ServerSettings> {
    let store = app.store(FILE).ok()?;
    store.get(SERVER).and_then(|v| serde_json::from_value(v).ok())
}

pub fn save_allowed_tools(app: &AppHandle, allowed: &[AllowedTool]) -> Result<(), String> {
    save(app, ALLOWED_TOOLS, serde_json::json!(allowed))
}

pub fn save_workers(app: &AppHandle, workers: &[WorkerEntry]) -> Result<(), String> {
    save(app, WORKERS, serde_json::json!(workers))
}

pub fn save_model_memory(app: &AppHandle, memory: &ModelMemory) -> Result<(), String> {
    save(app, MODEL_MEMORY, serde_json::json!(memory))
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
