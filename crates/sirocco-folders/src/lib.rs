//! `sirocco-folders`: where Sirocco keeps things, one answer for the app and the CLI.
//!
//! The data folder is `SIROCCO_DATA_DIR`, else the platform's data folder for the app's
//! identifier — exactly what Tauri's `app_data_dir` resolves to (`dirs::data_dir()` joined with
//! the identifier: `~/.local/share/dev.sirocco.app` on Linux, `~/Library/Application Support/…`
//! on macOS, `%APPDATA%\…` on Windows). Models are `SIROCCO_MODELS_DIR`, else `<data>/models`.
//! Everything else the app writes lives under the data folder.
//!
//! **Private by default.** Conversations, attachments, logs, settings, mcp.json and KV states
//! are the user's alone: [`make_private_by_default`] (first thing in every `main`) sets the
//! process's umask to 077, so what Sirocco creates is 0600 (folders 0700), and
//! [`AppFolders::secure`] makes the data folder 0700 and fixes what an older install left
//! readable to others. Processes Sirocco starts for the user's own tools (MCP servers) get the
//! user's umask back ([`user_umask`]).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The umask the process started with (the user's), before [`make_private_by_default`].
static USER_UMASK: OnceLock<u32> = OnceLock::new();

/// From now on, files and folders this process (and the children it starts) creates are
/// readable by their owner only. Call it before any thread starts. Idempotent.
pub fn make_private_by_default() {
    // SAFETY: umask only swaps the process's file-creation mask; it cannot fail.
    let before = unsafe { libc::umask(0o077) };
    #[allow(clippy::useless_conversion)] // mode_t is u32 on Linux, u16 on macOS
    let _ = USER_UMASK.set(u32::from(before));
}

/// The user's own umask, for the processes Sirocco starts on the user's behalf (their files
/// are the user's business); 022 when [`make_private_by_default`] was never called.
pub fn user_umask() -> u32 {
    USER_UMASK.get().copied().unwrap_or(0o022)
}

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

    /// Creates the data folder if needed and makes it and everything in it its owner's alone:
    /// folders 0700, files 0600 (an install from before this rule had them world-readable).
    /// The models folder's contents are left as they are (model files are not private, and may
    /// be shared with other tools), and symbolic links are never followed. How many entries
    /// were changed.
    pub fn secure(&self) -> std::io::Result<usize> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&self.data)?;
        let mut changed = 0;
        let mut folders = vec![self.data.clone()];
        while let Some(folder) = folders.pop() {
            changed += usize::from(private(&folder, 0o700)?);
            for entry in std::fs::read_dir(&folder)? {
                let entry = entry?;
                let kind = entry.file_type()?;
                if kind.is_dir() && entry.path() != self.models {
                    folders.push(entry.path());
                } else if kind.is_file() {
                    changed += usize::from(private(&entry.path(), 0o600)?);
                }
            }
        }
        Ok(changed)
    }
}

/// Takes away group and others' access to `path` (its owner's bits kept, at least `mode`'s
/// owner bits); whether it changed anything.
fn private(path: &Path, mode: u32) -> std::io::Result<bool> {
    use std::os::unix::fs::PermissionsExt;
    let now = std::fs::symlink_metadata(path)?.permissions().mode() & 0o7777;
    let wanted = (now & 0o700) | (mode & 0o700);
    if now == wanted {
        return Ok(false);
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(wanted))?;
    Ok(true)
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

    #[test]
    fn an_older_install_is_made_private_and_links_are_left_alone() {
        use std::os::unix::fs::PermissionsExt;
        let root = std::env::temp_dir().join(format!("sirocco-folders-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let outside = root.join("outside.gguf");
        let f = AppFolders::under(&root.join("data"));
        std::fs::create_dir_all(f.kv_states()).unwrap();
        std::fs::create_dir_all(&f.models).unwrap();
        for (path, mode) in [(&root.join("data"), 0o755), (&f.kv_states(), 0o775), (&f.models, 0o755)] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        for path in [f.database(), f.settings(), f.kv_states().join("a.state"), outside.clone()] {
            std::fs::write(&path, b"x").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        std::os::unix::fs::symlink(&outside, f.models.join("linked.gguf")).unwrap();
        assert!(f.secure().unwrap() >= 5);
        let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&f.data), 0o700);
        assert_eq!(mode(&f.kv_states()), 0o700);
        assert_eq!(mode(&f.models), 0o755, "the models folder is left as it was");
        for path in [f.database(), f.settings(), f.kv_states().join("a.state")] {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
        assert_eq!(mode(&outside), 0o644, "a linked file is not the app's to change");
        assert_eq!(f.secure().unwrap(), 0, "a second pass changes nothing");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
