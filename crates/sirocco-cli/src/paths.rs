//! The app's folders, found as the app finds them (`sirocco-folders`), so the CLI shares its
//! library, settings, conversations and keyring entries.

use std::path::PathBuf;

use sirocco_engine::LoadParams;
use sirocco_hub::library::LibraryRoots;
use sirocco_store::Store;

pub fn models_dir() -> PathBuf {
    sirocco_folders::AppFolders::resolve().models
}

/// The app's library (`LibraryRoots::of_app`: the same models the app's picker lists) and the
/// folders given on the command line.
pub fn library_roots(hf_cache: PathBuf, extra: Vec<PathBuf>) -> LibraryRoots {
    LibraryRoots::of_app(hf_cache, models_dir(), &added_locations()).with_folders(&extra)
}

/// A model file's load settings with the vision projector beside it (`mmproj-*.gguf` that
/// belongs to it), as the library loads it, unless the settings name one already. A model named
/// by its path then sees images as it does when named from the library.
pub fn with_projector_beside(model: &std::path::Path, params: LoadParams) -> LoadParams {
    match params.projector {
        Some(_) => params,
        None => LoadParams { projector: sirocco_hub::library::projector_beside(model), ..params },
    }
}

/// The folders and files added to the library in the app (its settings file, read through
/// `sirocco_runtime::Settings`, the app's own reader); none when the app never ran.
pub fn added_locations() -> Vec<PathBuf> {
    sirocco_runtime::Settings::of_app().library_locations
}

/// The app's database, when it exists (reading commands never create it).
pub async fn app_store() -> Result<Option<Store>, String> {
    let db = sirocco_folders::AppFolders::resolve().database();
    if !db.is_file() {
        return Ok(None);
    }
    Store::open(&db).await.map(Some).map_err(|e| format!("{}: {e}", db.display()))
}
