//! The app itself: the About box's versions and folders, the logs shown in the file manager,
//! the report a panic last time left (taken once, at start), links to other sites opened in
//! the system browser; quitting, what closing the window does, starting at login.

use sirocco_runtime::autostart;
use tauri::{AppHandle, State, Url};

use crate::settings::BackgroundSettings;

use crate::error::{IpcError, IpcResult};
use crate::navigation::{self, Destination};
use crate::AppState;

#[derive(serde::Serialize, ts_rs::TS)]
pub struct AppInfo {
    version: String,
    /// The llama.cpp (ggml) the engine was built from.
    ggml_version: String,
    ggml_commit: String,
    /// The CPU features llama.cpp's CPU backend uses (its system info line).
    cpu_features: String,
    /// Which CPU backend runs: `native` (built for this machine) or the package's variant
    /// picked for this CPU (`haswell`, `sse42`, …).
    cpu_backend: String,
    /// The backend files loaded (a package), file names only.
    backend_files: Vec<String>,
    data_dir: String,
    logs_dir: String,
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    let build = sirocco_engine::build_info();
    AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        ggml_version: build.ggml_version,
        ggml_commit: build.ggml_commit,
        cpu_features: build.cpu_features,
        cpu_backend: build.cpu_backend,
        backend_files: build
            .backend_files
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect(),
        data_dir: state.folders.data.display().to_string(),
        logs_dir: state.folders.logs().display().to_string(),
    }
}

/// Shows the newest log file in the file manager (the folder when there is none yet).
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn logs_reveal(state: State<'_, AppState>) -> IpcResult<()> {
    let dir = state.folders.logs();
    let path = sirocco_logs::newest_log(&dir).unwrap_or(dir);
    super::reveal_in_file_manager(path).await
}

/// What a panic last time left for this start (once).
#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn crash_report(state: State<'_, AppState>) -> Option<sirocco_logs::CrashReport> {
    state.crash.lock().unwrap().take()
}

/// Opens a link to another site in the system browser, never in the app's window (the page's
/// links come here; see navigation.rs). Anything but another site's web address is refused.
/// A browser that cannot be started is this command's error: logged, and the page says nothing.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn open_in_browser(app: AppHandle, url: String) -> IpcResult<()> {
    let url = Url::parse(&url).map_err(|_| IpcError::invalid("not a web address"))?;
    if navigation::destination(&url, &navigation::app_origins_of(&app)) != Destination::Browser {
        return Err(IpcError::invalid(format!("a {} address is not another site's web page", url.scheme())));
    }
    crate::error::blocking(move || navigation::open_in_browser(&url)).await
}

/// Ends Sirocco as the tray's "Quit" does (the conversations' caches saved first).
#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn app_quit(app: AppHandle) {
    crate::tray::perform(&app, crate::tray::Action::Quit);
}

/// The page's answer the first time closing would keep Sirocco running: `Some(keep)` is kept
/// (the question is not asked again), then the window hides (`true`) or Sirocco quits;
/// `None` (Cancel, Escape) keeps the window open and asks again at the next close.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub fn app_keep_running(app: AppHandle, state: State<'_, AppState>, keep: Option<bool>) -> IpcResult<()> {
    state.asking_to_keep_running.store(false, std::sync::atomic::Ordering::SeqCst);
    let Some(keep) = keep else { return Ok(()) };
    let saved = crate::settings::save_background(&app, &BackgroundSettings { keep_running: keep, told: true });
    if keep {
        crate::tray::hide_window(&app);
    } else {
        crate::tray::perform(&app, crate::tray::Action::Quit);
    }
    saved.map_err(IpcError::io)
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn background_settings(app: AppHandle) -> BackgroundSettings {
    crate::settings::read(&app).background
}

/// Whether closing the window keeps a busy Sirocco running (kept at once; the user has chosen,
/// so the first close does not ask).
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub fn background_set_keep_running(app: AppHandle, on: bool) -> IpcResult<()> {
    crate::settings::save_background(&app, &BackgroundSettings { keep_running: on, told: true }).map_err(IpcError::io)
}

/// Whether Sirocco starts when the user logs in, and whether hidden (its XDG autostart entry).
#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn autostart_get() -> Option<autostart::Autostart> {
    autostart::read(&autostart::config_dir()?)
}

/// Starts Sirocco at login (`Some`: hidden, serving, or with its window) or no longer (`None`).
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub fn autostart_set(on: Option<autostart::Autostart>) -> IpcResult<Option<autostart::Autostart>> {
    let config = autostart::config_dir().ok_or_else(|| IpcError::io("this system has no configuration folder"))?;
    let written = match &on {
        Some(entry) => autostart::this_program().and_then(|program| autostart::enable(&config, &program, entry.hidden)),
        None => autostart::disable(&config),
    };
    written.map_err(|e| IpcError::io(format!("the login entry could not be written: {e}")))?;
    Ok(autostart::read(&config))
}

/// The files this launch was asked to open (`sirocco-app model.gguf`), until the page takes them.
pub struct LaunchFiles(pub std::sync::Mutex<Vec<std::path::PathBuf>>);

/// The files this launch was asked to open, given once (later launches send `open-files`).
#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn launch_files(files: State<'_, LaunchFiles>) -> Vec<std::path::PathBuf> {
    std::mem::take(&mut *files.0.lock().unwrap())
}
