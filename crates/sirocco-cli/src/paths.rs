//! The app's folders, found as the app finds them (`sirocco-folders`), so the CLI shares its
//! library, settings, conversations and keyring entries.

use std::path::PathBuf;

use sirocco_hub::library::LibraryRoots;
use sirocco_store::Store;

pub use sirocco_folders::APP_IDENTIFIER;

pub fn data_dir() -> PathBuf {
    sirocco_folders::AppFolders::resolve().data
}

pub fn models_dir() -> PathBuf {
    sirocco_folders::AppFolders::resolve().models
}

/// Everywhere models are: the Hugging Face cache, the app's models folder, `./models`, the
/// folders given, what the user added in the app, LM Studio's and Ollama's.
pub fn library_roots(hf_cache: PathBuf, extra: Vec<PathBuf>) -> LibraryRoots {
    let mut folders = vec![models_dir(), PathBuf::from("models")];
    folders.extend(extra);
    folders.dedup();
    let roots =
        LibraryRoots { hf_cache: Some(hf_cache), folders, ..Default::default() }.with_locations(&added_locations());
    match std::env::var_os("HOME") {
        Some(home) => roots.detect_other_apps(&PathBuf::from(home)),
        None => roots,
    }
}

/// The folders and files added to the library in the app (its `settings.json`, written by
/// tauri-plugin-store); none when the app never ran.
pub fn added_locations() -> Vec<PathBuf> {
    std::fs::read(data_dir().join("settings.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|settings| serde_json::from_value(settings["libraryLocations"].clone()).ok())
        .unwrap_or_default()
}

/// The app's store, created (with its folder) when the app has never run: `sirocco serve`
/// keeps Responses API answers there.
pub async fn app_store_or_create() -> Result<Store, String> {
    let dir = data_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let db = dir.join("sirocco.db");
    Store::open(&db).await.map_err(|e| format!("{}: {e}", db.display()))
}

/// The app's database, when it exists (reading commands never create it).
pub async fn app_store() -> Result<Option<Store>, String> {
    let db = data_dir().join("sirocco.db");
    if !db.is_file() {
        return Ok(None);
    }
    Store::open(&db).await.map(Some).map_err(|e| format!("{}: {e}", db.display()))
}
