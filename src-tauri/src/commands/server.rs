//! The local OpenAI-compatible server: start (port, LAN opt-in with an API key, a live request
//! log, loading library models on demand beside the ones loaded), stop, status; the settings it
//! was last started with, kept (`settings.json`, the key in the system keyring). It serves the
//! app's own model host: what the user loads answers there too, and what it loads shows in the
//! app (`models-changed`). Starting and stopping are the runtime's (`Runtime::start_server`,
//! shared with `sirocco serve`); this file keeps the settings and tells the page.

use std::sync::Arc;

use serde::Serialize;
use sirocco_runtime::{secrets, Serving};
use sirocco_server::RequestLogEntry;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

use crate::error::IpcResult;
use crate::settings::ServerSettings;
use crate::AppState;

#[derive(Serialize, ts_rs::TS)]
pub struct ServerStatus {
    running: bool,
    /// The address clients use, e.g. `http://127.0.0.1:1234/v1`.
    base_url: Option<String>,
    /// The models loaded now (each answers under this id).
    models: Vec<String>,
    /// Where Ollama's clients reach it too (`http://127.0.0.1:11434`), when it serves there.
    ollama_url: Option<String>,
    /// Another Sirocco (the background service, a `sirocco serve`) serves the saved port while
    /// this one does not: its address. The app uses it instead of starting a second server.
    pub(crate) elsewhere: Option<String>,
}

pub(crate) async fn status_of(app: &AppHandle) -> ServerStatus {
    let state = app.state::<AppState>();
    let addr = state.server_addr().await;
    let elsewhere = match addr {
        Some(_) => None,
        None => served_elsewhere(app).await,
    };
    ServerStatus {
        running: addr.is_some(),
        base_url: addr.map(|addr| format!("http://{addr}/v1")),
        models: state.host.loaded_ids(),
        ollama_url: state.ollama_addr().await.map(|addr| format!("http://{addr}")),
        elsewhere: elsewhere.map(|addr| format!("http://{addr}/v1")),
    }
}

/// The saved port's loopback address when another Sirocco serves it now.
async fn served_elsewhere(app: &AppHandle) -> Option<std::net::SocketAddr> {
    let port = crate::settings::read_server(app).unwrap_or_default().port;
    let addr = std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port));
    sirocco_runtime::sirocco_serves(addr).await.then_some(addr)
}

/// Tells the page and the tray (both listen) that the server started or stopped.
pub(crate) fn changed(app: &AppHandle) {
    use tauri::Emitter;
    let _ = app.emit("server-changed", ());
}

/// Where each request's log line goes: the page that started the server (a channel), or the
/// `server-request` event (a server started at launch, before any page asked).
type RequestSink = Arc<dyn Fn(RequestLogEntry) + Send + Sync>;

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn server_start(
    app: AppHandle,
    state: State<'_, AppState>,
    settings: ServerSettings,
    on_request: Channel<RequestLogEntry>,
) -> IpcResult<ServerStatus> {
    let sink: RequestSink = Arc::new(move |entry| {
        let _ = on_request.send(entry);
    });
    start(&state, settings.clone(), sink).await?;
    remember(&app, settings);
    changed(&app);
    Ok(status_of(&app).await)
}

/// Starts the server with `settings`: library models load on demand (each with its saved
/// settings, its conversation caches kept in the app's folder).
async fn start(state: &AppState, settings: ServerSettings, sink: RequestSink) -> IpcResult<()> {
    let base = sirocco_engine::LoadParams { state_dir: Some(state.folders.kv_states()), ..Default::default() };
    let serving = Serving { on_request: Some(sink), ..Serving::from_settings(settings, base) };
    state.runtime.start_server(serving).await?;
    Ok(())
}

/// At launch: starts the server with its kept settings when they say so, or when `hidden`
/// (started at login without a window: serving is what it is for).
pub fn start_at_launch(app: &AppHandle, hidden: bool) {
    let wanted = crate::settings::read_server(app).is_some_and(|s| s.start_at_launch);
    if !(wanted || hidden) {
        return;
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(e) = start_saved(&app).await {
            tracing::warn!("the server did not start at launch: {e}");
        }
    });
}

/// Starts the server with its kept settings (the defaults before it ever ran; the API key
/// read from the keyring first), each request told as `server-request` — unless another
/// Sirocco (the background service) serves that port already: then the app uses that one.
/// The tray's switch and a start at launch take this way.
pub async fn start_saved(app: &AppHandle) -> Result<(), String> {
    let mut settings = crate::settings::read_server(app).unwrap_or_default();
    if let Some(addr) = served_elsewhere(app).await {
        tracing::info!(%addr, "another Sirocco (the background service?) serves the saved port: the app uses it");
        changed(app);
        return Ok(());
    }
    settings.api_key = secrets::server_api_key().await;
    if settings.lan && settings.api_key.is_none() {
        return Err("serving on the network needs its API key, which the keyring did not give".into());
    }
    let tell = app.clone();
    let sink: RequestSink = Arc::new(move |entry| {
        use tauri::Emitter;
        let _ = tell.emit("server-request", entry);
    });
    let state = app.state::<AppState>();
    let started = start(&state, settings, sink).await;
    changed(app);
    started.map_err(|e| e.message)
}

/// Whether the server starts when Sirocco opens (kept at once, the other settings unchanged).
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub fn server_set_start_at_launch(app: AppHandle, on: bool) -> IpcResult<()> {
    let settings = crate::settings::read_server(&app).unwrap_or_default();
    crate::settings::save_server(&app, &ServerSettings { start_at_launch: on, api_key: None, ..settings })?;
    Ok(())
}

/// Keeps the settings a server started with: the rest in the settings file now, the key in the
/// keyring in the background (a keyring that is slow to answer does not hold up the start). A
/// failure is logged, not fatal (the server runs; the next start asks again).
fn remember(app: &AppHandle, mut settings: ServerSettings) {
    let key = settings.api_key.take().filter(|k| !k.trim().is_empty());
    if let Err(e) = crate::settings::save_server(app, &settings) {
        tracing::warn!("the server's settings are not kept: {e}");
    }
    tauri::async_runtime::spawn(async move {
        if let Err(e) = secrets::keep_server_api_key(key).await {
            tracing::warn!("the server's API key is not kept: {e}");
        }
    });
}

/// The settings the server was last started with (the defaults before it ever was), without
/// its API key (see [`server_api_key`]): read from the settings file, at once.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn server_settings(app: AppHandle) -> ServerSettings {
    ServerSettings { api_key: None, ..crate::settings::read_server(&app).unwrap_or_default() }
}

/// The server's API key, from the system keyring (slow where no keyring answers: asked apart
/// from the other settings, so the page does not wait for it).
#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn server_api_key() -> Option<String> {
    secrets::server_api_key().await
}

/// A strong API key for serving on the network (the page offers it; nothing is kept until the
/// server starts with it).
#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn server_generate_key() -> String {
    sirocco_server::generate_api_key()
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn server_stop(app: AppHandle, state: State<'_, AppState>) -> IpcResult<ServerStatus> {
    state.stop_server().await;
    changed(&app);
    Ok(status_of(&app).await)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn server_status(app: AppHandle) -> IpcResult<ServerStatus> {
    Ok(status_of(&app).await)
}
