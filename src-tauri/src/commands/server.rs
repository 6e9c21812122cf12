//! The local OpenAI-compatible server: start (port, LAN opt-in with an API key, a live request
//! log, loading library models on demand beside the ones loaded), stop, status; the settings it
//! was last started with, kept (`settings.json`, the key in the system keyring). It serves the
//! app's own model host: what the user loads answers there too, and what it loads shows in the
//! app (`models-changed`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use sirocco_server::{OnDemand, RequestLogEntry, ServerConfig};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

use crate::error::{blocking, IpcResult};
use crate::settings::ServerSettings;
use crate::state::KEYRING_SERVICE;
use crate::AppState;

/// The keyring account of the server's API key.
const API_KEY_ACCOUNT: &str = "server-api-key";

/// The library, each model with the offload this machine takes and its saved settings (its
/// default preset's load fields) on top.
fn catalog(app: AppHandle) -> sirocco_server::Catalog {
    Arc::new(move || {
        let app = app.clone();
        Box::pin(async move {
            let state = app.state::<AppState>();
            let base = sirocco_engine::LoadParams { state_dir: Some(state.states_dir.clone()), ..Default::default() };
            sirocco_server::library_catalog(state.library_roots(), Some(&state.store), &base).await
        })
    })
}

/// The server's own runtime: one worker. HTTP needs little, and on a machine with few cores
/// every extra busy thread preempts llama.cpp's, whose threads wait for each other each step
/// (measured with `sirocco bench-server`, whose CLI runs the same way).
fn server_runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("sirocco-server")
            .enable_all()
            .build()
            .expect("a one-thread runtime starts")
    })
}

fn on_demand(app: &AppHandle, settings: &ServerSettings) -> Option<OnDemand> {
    if !settings.on_demand {
        return None;
    }
    Some(OnDemand {
        catalog: catalog(app.clone()),
        idle_unload: (settings.idle_minutes > 0).then(|| Duration::from_secs(u64::from(settings.idle_minutes) * 60)),
    })
}

#[derive(Serialize, ts_rs::TS)]
pub struct ServerStatus {
    running: bool,
    /// The address clients use, e.g. `http://127.0.0.1:1234/v1`.
    base_url: Option<String>,
    /// The models loaded now (each answers under this id).
    models: Vec<String>,
}

async fn status_of(state: &AppState) -> ServerStatus {
    let server = state.server.lock().await;
    ServerStatus {
        running: server.is_some(),
        base_url: server.as_ref().map(|s| format!("http://{}/v1", s.addr)),
        models: state.host.loaded_ids(),
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
    start(&app, &state, settings.clone(), sink).await?;
    remember(&app, settings);
    Ok(status_of(&state).await)
}

async fn start(app: &AppHandle, state: &AppState, settings: ServerSettings, sink: RequestSink) -> IpcResult<()> {
    let mut running = state.server.lock().await;
    if let Some(old) = running.take() {
        old.stop().await;
    }
    let ip = if settings.lan { IpAddr::V4(Ipv4Addr::UNSPECIFIED) } else { IpAddr::V4(Ipv4Addr::LOCALHOST) };
    let config = ServerConfig {
        on_demand: on_demand(app, &settings),
        addr: SocketAddr::new(ip, settings.port),
        api_key: settings.api_key.filter(|k| !k.trim().is_empty()),
        cors_origins: settings.cors_origins,
        trusted_hosts: settings.trusted_hosts,
        on_request: Some(Arc::new(move |entry| sink(entry))),
        store: Some(state.store.clone()),
        fetch_images: settings.fetch_images,
        ..ServerConfig::default()
    };
    let server = server_runtime()
        .spawn(sirocco_server::start(config, state.host.clone()))
        .await
        .map_err(|e| e.to_string())??;
    tracing::info!(addr = %server.addr, "the local server is running");
    *running = Some(server);
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
        settings.api_key = server_api_key().await;
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
        if let Err(e) = start(&app, &state, settings, sink).await {
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
        let kept = blocking(move || {
            let store = sirocco_hub::credentials::SecretStore::new(KEYRING_SERVICE);
            match key {
                Some(key) => store.set(API_KEY_ACCOUNT, &key),
                None => store.clear(API_KEY_ACCOUNT),
            }
        })
        .await;
        if let Err(e) = kept {
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
    blocking(|| sirocco_hub::credentials::SecretStore::new(KEYRING_SERVICE).get(API_KEY_ACCOUNT)).await.unwrap_or_else(
        |e| {
            tracing::warn!("the server's API key could not be read: {e}");
            None
        },
    )
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
    if let Some(server) = state.server.lock().await.take() {
        server.stop().await;
    }
    Ok(status_of(&state).await)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn server_status(state: State<'_, AppState>) -> IpcResult<ServerStatus> {
    Ok(status_of(&state).await)
}
