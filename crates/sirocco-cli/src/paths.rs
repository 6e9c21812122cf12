//! The app's folders, found the way the app finds them, so the CLI shares its library and
//! saved settings: `SIROCCO_DATA_DIR` (else the platform's data folder for the app's
//! identifier) and `SIROCCO_MODELS_DIR` (else `<data>/models`).

use std::path::PathBuf;

use sirocco_hub::library::LibraryRoots;

/// The app's identifier in `tauri.conf.json`, which names its data folder.
const APP_IDENTIFIER: &str = "dev.sirocco.app";

pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SIROCCO_DATA_DIR") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_DATA_HOME").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".local/share")
    });
    base.join(APP_IDENTIFIER)
}

pub fn models_dir() -> PathBuf {
    std::env::var_os("SIROCCO_MODELS_DIR").map(PathBuf::from).unwrap_or_else(|| data_dir().join("models"))
}

/// Everywhere models are: the Hugging Face cache, the app's models folder, `./models`, the
/// folders given, LM Studio's and Ollama's.
pub fn library_roots(hf_cache: PathBuf, extra: Vec<PathBuf>) -> LibraryRoots {
    let mut folders = vec![models_dir(), PathBuf::from("models")];
    folders.extend(extra);
    folders.dedup();
    let roots = LibraryRoots { hf_cache: Some(hf_cache), folders, ..Default::default() };
    match std::env::var_os("HOME") {
        Some(home) => roots.detect_other_apps(&PathBuf::from(home)),
        None => roots,
    }
}
