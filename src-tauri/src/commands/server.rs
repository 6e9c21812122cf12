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
}

async fn status_of(state: &AppState) -> ServerStatus {
    let addr = state.server_addr().await;
    ServerStatus {
        running: addr.is_some(),
        base_url: addr.map(|addr| format!("http://{addr}/v1")),
        models: state.host.loaded_ids(),
        ollama_url: state.ollama_addr().await.map(|addr| format!("http://{addr}")),
    }
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
    Ok(status_of(&state).await)
}

/// Starts the server with `settings`: library models load on demand (each with its saved
/// settings, its conversation caches kept in the app's folder).
async fn start(state: &AppState, settings: ServerSettings, sink: RequestSink) -> IpcResult<()> {
    let base = sirocco_engine::LoadParams { state_dir: Some(state.folders.kv_states()), ..Default::default() };
    let serving = Serving { on_request: Some(sink), ..Serving::from_settings(settings, base) };
    state.runtime.start_server(serving).await?;
    Ok(())
}

/// At launch: starts the server with its kept settings when they say so (the API key read from
/// the keyring first). A failure (the port taken…) is logged; the Server page shows it off.
pub fn start_at_launch(app: &AppHandle) {
    let Some(mut settings) = crate::settings::read_server(app).filter(|s| s.start_at_launch) else {
        return;
    };
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        settings.api_key = secrets::server_api_key().await;
        if settings.lan && settings.api_key.is_none() {
            tracing::warn!("the server is not started at launch: serving on the network needs its API key, which the keyring did not give");
            return;
        }
        let tell = app.clone();
        let sink: RequestSink = Arc::new(move |entry| {
            use tauri::Emitter;
            let _ = tell.emit("server-request", entry);
        });
        let state = app.state::<AppState>();
        if let Err(e) = start(&state, settings, sink).await {
            tracing::warn!("the server did not start at launch: {e}");
        }
    });
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
pub async fn server_stop(state: State<'_, AppState>) -> IpcResult<ServerStatus> {
    state.stop_server().await;
    Ok(status_of(&state).await)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn server_status(state: State<'_, AppState>) -> IpcResult<ServerStatus> {
    Ok(status_of(&state).await)
}
