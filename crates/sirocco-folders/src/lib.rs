//! `sirocco-folders`: where Sirocco keeps things, one answer for the app and the CLI.
//!
//! The data folder is `SIROCCO_DATA_DIR`, else the platform's data folder for the app's
//! identifier — exactly what Tauri's `app_data_dir` resolves to (`dirs::data_dir()` joined with
//! the identifier: `~/.local/share/dev.sirocco.app` on Linux, `~/Library/Application Support/…`
//! on macOS, `%APPDATA%\…` on Windows). Models are `SIROCCO_MODELS_DIR`, else `<data>/models`.
//! Everything else the app writes lives under the data folder.

use std::path::{Path, PathBuf};

/// The app's identifier in `tauri.conf.json`: it names the data folder and the app's entries
/// in the system keyring.
pub const APP_IDENTIFIER: &str = "dev.sirocco.app";

/// The app's folders and files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppFolders {
    pub data: PathBuf,
    pub models: PathBuf,
}

impl AppFolders {
    /// As the environment and the platform say (see the crate's documentation).
    pub fn resolve() -> Self {
        let data = std::env::var_os("SIROCCO_DATA_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join(APP_IDENTIFIER));
        let models = std::env::var_os("SIROCCO_MODELS_DIR").map(PathBuf::from).unwrap_or_else(|| data.join("models"));
        Self { data, models }
    }

    /// Everything under `data` (models in `data/models`).
    pub fn under(data: &Path) -> Self {
        Self { data: data.to_path_buf(), models: data.join("models") }
    }

    /// The conversations, presets and personas (SQLite).
    pub fn database(&self) -> PathBuf {
        self.data.join("sirocco.db")
    }

    /// The settings file (tauri-plugin-store's `settings.json`).
    pub fn settings(&self) -> PathBuf {
        self.data.join("settings.json")
    }

    /// The MCP servers (`mcp.json`, the format LM Studio and Cursor use).
    pub fn mcp_config(&self) -> PathBuf {
        self.data.join("mcp.json")
    }

    /// Conversations' saved KV caches.
    pub fn kv_states(&self) -> PathBuf {
        self.data.join("kv-states")
    }

    /// The app's log files (and the report of a panic, for the next start).
    pub fn logs(&self) -> PathBuf {
        self.data.join("logs")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_under_the_data_folder_and_models_can_be_elsewhere() {
        let f = AppFolders::under(Path::new("/d"));
        for p in [f.database(), f.settings(), f.mcp_config(), f.kv_states(), f.logs(), f.models.clone()] {
            assert!(p.starts_with("/d"), "{}", p.display());
        }
        assert_eq!(f.logs(), Path::new("/d/logs"));
    }
}
