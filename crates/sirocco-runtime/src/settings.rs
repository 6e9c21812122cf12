//! The settings file: `settings.json` in the data folder. The app keeps it through
//! tauri-plugin-store, beside the page's own keys (theme, last preset…); the CLI only reads it.
//! Its layout — each key, its type, its default — is written here once: [`Settings`] is what
//! both sides read, [`Settings::from_entries`] the one reader (a key missing or unreadable gives
//! its default, never an error), and [`keys`] the names a writer saves under.
//!
//! Secrets never go here: the Hub token, the server's key and MCP servers' secrets live in the
//! system keyring.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The file's name in the data folder.
pub const FILE: &str = "settings.json";

/// The keys the Rust side reads and writes (the page's own keys are its business).
pub mod keys {
    pub const HUB_ENDPOINT: &str = "hubEndpoint";
    pub const LIBRARY_LOCATIONS: &str = "libraryLocations";
    pub const MODEL_MEMORY: &str = "modelMemory";
    pub const WORKERS: &str = "workers";
    pub const ALLOWED_TOOLS: &str = "allowedTools";
    pub const SERVER: &str = "server";
    pub const BACKGROUND: &str = "background";
}

/// A tool the user allowed always, kept under `allowedTools`: bound to its server's identity
/// (`sirocco_mcp::fingerprint`). Entries saved before that, without one, are read but hold for
/// no server: their tools are asked about again, and they are dropped as the list is next saved.
pub use sirocco_mcp::AllowedTool;

/// Everything the Rust side reads from the settings file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// The Hub's address when not huggingface.co (a mirror); none for the default.
    pub hub_endpoint: Option<String>,
    /// Folders and files added to the library where they are.
    pub library_locations: Vec<PathBuf>,
    pub model_memory: ModelMemory,
    pub workers: Vec<WorkerEntry>,
    pub allowed_tools: Vec<AllowedTool>,
    /// The local server's settings it was last started with; none before its first start.
    pub server: Option<ServerSettings>,
    pub background: BackgroundSettings,
}

impl Settings {
    /// From the file's entries, however they are kept (`get` answers one key).
    pub fn from_entries(get: impl Fn(&str) -> Option<Value>) -> Self {
        fn typed<T: serde::de::DeserializeOwned>(value: Option<Value>) -> Option<T> {
            value.and_then(|v| serde_json::from_value(v).ok())
        }
        Self {
            hub_endpoint: get(keys::HUB_ENDPOINT).and_then(|v| v.as_str().map(str::to_owned)).filter(|s| !s.is_empty()),
            library_locations: typed(get(keys::LIBRARY_LOCATIONS)).unwrap_or_default(),
            model_memory: typed(get(keys::MODEL_MEMORY)).unwrap_or_default(),
            workers: typed(get(keys::WORKERS)).unwrap_or_default(),
            allowed_tools: typed(get(keys::ALLOWED_TOOLS)).unwrap_or_default(),
            server: typed(get(keys::SERVER)),
            background: typed(get(keys::BACKGROUND)).unwrap_or_default(),
        }
    }

    /// The file at `path`, read directly (the CLI's way); missing or unreadable gives the
    /// defaults.
    pub fn read_file(path: &Path) -> Self {
        let entries: serde_json::Map<String, Value> =
            std::fs::read(path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default();
        Self::from_entries(|key| entries.get(key).cloned())
    }

    /// The app's settings file, where `sirocco-folders` finds the data folder.
    pub fn of_app() -> Self {
        Self::read_file(&sirocco_folders::AppFolders::resolve().data.join(FILE))
    }
}

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

/// What closing the window does, kept under `background`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct BackgroundSettings {
    /// Closing the window while the server is on, an answer streams or a download runs keeps
    /// Sirocco running in the tray (off: closing quits).
    #[serde(default = "yes")]
    pub keep_running: bool,
    /// The first close that kept Sirocco running said so (once).
    #[serde(default)]
    pub told: bool,
}

impl Default for BackgroundSettings {
    fn default() -> Self {
        Self { keep_running: true, told: false }
    }
}

/// The local server's settings, kept under `server` (its key is in the keyring, not here).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
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
    /// Also serve on Ollama's port (11434), where its clients look by default, when it is free.
    #[serde(default)]
    pub ollama_port: bool,
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
            ollama_port: false,
        }
    }
}

fn yes() -> bool {
    true
}

fn an_hour() -> u32 {
    60
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_broken_file_gives_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Settings::read_file(&dir.path().join(FILE)), Settings::default());
        std::fs::write(dir.path().join(FILE), b"{ not json").unwrap();
        assert_eq!(Settings::read_file(&dir.path().join(FILE)), Settings::default());
    }

    #[test]
    fn each_key_is_read_on_its_own_and_a_bad_one_falls_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        // As tauri-plugin-store writes it: the page's keys beside ours, one of ours damaged.
        let file = serde_json::json!({
            "theme": "dark",
            "hubEndpoint": "http://mirror.example",
            "libraryLocations": ["/models/a", "/models/b.gguf"],
            "modelMemory": { "max_models": 2, "reserve_ram": 1_000_000_000u64 },
            "workers": "not a list",
            "allowedTools": [{ "server": "fs", "tool": "read", "fingerprint": "abc" }],
            "server": { "port": 8080, "lan": false, "api_key": null },
            "background": { "told": true },
        });
        std::fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();
        let read = Settings::read_file(&path);
        assert_eq!(read.hub_endpoint.as_deref(), Some("http://mirror.example"));
        assert_eq!(read.library_locations, [PathBuf::from("/models/a"), PathBuf::from("/models/b.gguf")]);
        assert_eq!(read.model_memory, ModelMemory { max_models: Some(2), reserve_ram: 1_000_000_000 });
        assert_eq!(read.workers, Vec::new(), "a damaged key gives its default");
        assert_eq!(read.allowed_tools.len(), 1);
        let server = read.server.expect("the server's settings are read");
        // Keys saved by an older version get their defaults.
        assert_eq!((server.port, server.on_demand, server.idle_minutes), (8080, true, 60));
        assert_eq!(read.background, BackgroundSettings { keep_running: true, told: true });
        assert!(Settings::default().background.keep_running, "closing keeps a busy Sirocco running by default");
    }

    #[test]
    fn an_empty_hub_endpoint_means_the_default_hub() {
        let read = Settings::from_entries(|k| (k == keys::HUB_ENDPOINT).then(|| Value::from("")));
        assert_eq!(read.hub_endpoint, None);
    }
}
