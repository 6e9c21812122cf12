//! The local OpenAI-compatible server: start (port, LAN opt-in with an API key, a live request
//! log), stop, status.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sirocco_server::{RequestLogEntry, ServerConfig};
use tauri::ipc::Channel;
use tauri::State;

use crate::error::IpcResult;
use crate::AppState;

#[derive(Deserialize)]
pub struct ServerSettings {
    port: u16,
    /// Listen on every interface (requires `api_key`).
    lan: bool,
    api_key: Option<String>,
    /// Web pages allowed to call the server from a browser (CORS); none by default.
    #[serde(default)]
    cors_origins: Vec<String>,
}

#[derive(Serialize)]
pub struct ServerStatus {
    running: bool,
    /// The address clients use, e.g. `http://127.0.0.1:1234/v1`.
    base_url: Option<String>,
    model: Option<String>,
}

async fn status_of(state: &AppState) -> ServerStatus {
    let server = state.server.lock().await;
    ServerStatus {
        running: server.is_some(),
        base_url: server.as_ref().map(|s| format!("http://{}/v1", s.addr)),
        model: state.served.lock().unwrap().as_ref().map(|m| m.id.clone()),
    }
}

#[tauri::command]
pub async fn server_start(
    state: State<'_, AppState>,
    settings: ServerSettings,
    on_request: Channel<RequestLogEntry>,
) -> IpcResult<ServerStatus> {
    let mut running = state.server.lock().await;
    if let Some(old) = running.take() {
        old.stop().await;
    }
    let ip = if settings.lan { IpAddr::V4(Ipv4Addr::UNSPECIFIED) } else { IpAddr::V4(Ipv4Addr::LOCALHOST) };
    let config = ServerConfig {
        addr: SocketAddr::new(ip, settings.port),
        api_key: settings.api_key.filter(|k| !k.trim().is_empty()),
        cors_origins: settings.cors_origins,
        on_request: Some(Arc::new(move |entry| {
            let _ = on_request.send(entry);
        })),
        ..ServerConfig::default()
    };
    let served = state.served.lock().unwrap().clone();
    let server = sirocco_server::start(config, state.engine.clone(), served).await.map_err(|e| e.to_string())?;
    *running = Some(server);
    drop(running);
    Ok(status_of(&state).await)
}

#[tauri::command]
pub async fn server_stop(state: State<'_, AppState>) -> IpcResult<ServerStatus> {
    if let Some(server) = state.server.lock().await.take() {
        server.stop().await;
    }
    Ok(status_of(&state).await)
}

#[tauri::command]
pub async fn server_status(state: State<'_, AppState>) -> IpcResult<ServerStatus> {
    Ok(status_of(&state).await)
}
