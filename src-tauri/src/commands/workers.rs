//! "Other machines": `sirocco worker`s whose devices take the layers a load offloads past
//! the local GPUs. Each is checked when added and asked for its memory when listed — in Rust,
//! never added to this process (see `sirocco_engine::workers`): the models using them run in
//! engine processes of their own.

use sirocco_engine::workers::{self, DeviceMemory};
use tauri::State;

use crate::error::{blocking, IpcResult};
use crate::settings::{self, WorkerEntry};
use crate::AppState;

/// ggml-rpc's usual port, for an address typed without one.
const DEFAULT_PORT: u16 = 50052;

#[derive(serde::Serialize, ts_rs::TS)]
pub struct WorkerView {
    endpoint: String,
    enabled: bool,
    #[serde(flatten)]
    reach: Reach,
}

/// What the machine said when asked just now.
#[derive(serde::Serialize, ts_rs::TS)]
#[serde(tag = "state", rename_all = "snake_case")]
#[ts(rename = "WorkerReach")]
pub enum Reach {
    Ready {
        devices: Vec<DeviceMemory>,
    },
    /// A loaded model uses it (a worker serves one machine at a time, so it is not asked).
    InUse {
        model: String,
    },
    Unreachable {
        message: String,
    },
}

/// Every machine the user added, each asked what it offers (at once, off the async runtime).
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn workers_list(state: State<'_, AppState>) -> IpcResult<Vec<WorkerView>> {
    Ok(survey(&state, false).await)
}

/// Each machine the user added (the enabled ones only, when asked) and what it said just
/// now; one a loaded model uses is not asked.
async fn survey(state: &AppState, enabled_only: bool) -> Vec<WorkerView> {
    let resident = state.host.resident();
    let asks: Vec<_> = state
        .workers
        .read()
        .unwrap()
        .iter()
        .filter(|w| w.enabled || !enabled_only)
        .cloned()
        .map(|entry| {
            let user = resident.iter().find(|m| m.params.workers.contains(&entry.endpoint)).map(|m| m.id.clone());
            tauri::async_runtime::spawn_blocking(move || {
                let reach = match user {
                    Some(model) => Reach::InUse { model },
                    None => reach(&entry.endpoint),
                };
                WorkerView { endpoint: entry.endpoint, enabled: entry.enabled, reach }
            })
        })
        .collect();
    let mut views = Vec::with_capacity(asks.len());
    for ask in asks {
        views.extend(ask.await.ok());
    }
    views
}

/// Free memory of each device the enabled machines that answer offer, in order: what the
/// planner may count. One a loaded model uses serves nobody else (a worker serves one machine
/// at a time), and one that does not answer offers nothing.
pub(crate) async fn usable_memory(state: &AppState) -> Vec<u64> {
    survey(state, true)
        .await
        .into_iter()
        .flat_map(|w| match w.reach {
            Reach::Ready { devices } => devices.into_iter().map(|d| d.free).collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// Adds the machine at `endpoint` (`host` or `host:port`) once it answers as a worker.
#[tauri::command]
#[tracing::instrument(skip_all, fields(endpoint = ?endpoint), err(level = "warn", Display))]
pub async fn worker_add(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    endpoint: String,
) -> IpcResult<Vec<WorkerView>> {
    let endpoint = normalize(&endpoint)?;
    if state.workers.read().unwrap().iter().any(|w| w.endpoint == endpoint) {
        return Err(format!("{endpoint} is already in the list.").into());
    }
    let checked = endpoint.clone();
    blocking(move || workers::probe(&checked)).await?;
    let saved = {
        let mut list = state.workers.write().unwrap();
        list.push(WorkerEntry { endpoint, enabled: true });
        list.clone()
    };
    settings::save_workers(&app, &saved)?;
    Ok(survey(&state, false).await)
}

#[tauri::command]
#[tracing::instrument(skip_all, fields(endpoint = ?endpoint), err(level = "warn", Display))]
pub async fn worker_remove(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    endpoint: String,
) -> IpcResult<Vec<WorkerView>> {
    let saved = {
        let mut list = state.workers.write().unwrap();
        list.retain(|w| w.endpoint != endpoint);
        list.clone()
    };
    settings::save_workers(&app, &saved)?;
    Ok(survey(&state, false).await)
}

/// Whether loads use the machine (from the next load on).
#[tauri::command]
#[tracing::instrument(skip_all, fields(endpoint = ?endpoint, enabled = ?enabled), err(level = "warn", Display))]
pub async fn worker_set_enabled(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    endpoint: String,
    enabled: bool,
) -> IpcResult<Vec<WorkerView>> {
    let saved = {
        let mut list = state.workers.write().unwrap();
        for w in list.iter_mut().filter(|w| w.endpoint == endpoint) {
            w.enabled = enabled;
        }
        list.clone()
    };
    settings::save_workers(&app, &saved)?;
    Ok(survey(&state, false).await)
}

fn reach(endpoint: &str) -> Reach {
    match workers::probe(endpoint) {
        Ok(devices) => Reach::Ready { devices },
        Err(e) => Reach::Unreachable { message: e.to_string() },
    }
}

/// `host:port`, the usual port added when none is given; anything else is refused plainly.
fn normalize(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() || text.contains(char::is_whitespace) || text.contains('/') {
        return Err("Enter the other machine as host:port, for example 192.168.1.20:50052.".into());
    }
    match text.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && !host.ends_with(':') => match port.parse::<u16>() {
            Ok(p) if p > 0 => Ok(text.to_owned()),
            _ => Err(format!("{port:?} is not a port number (1 to 65535).")),
        },
        _ => Ok(format!("{text}:{DEFAULT_PORT}")),
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn addresses_are_host_and_port() {
        assert_eq!(normalize(" 192.168.1.20 ").unwrap(), "192.168.1.20:50052");
        assert_eq!(normalize("gpu-box:50100").unwrap(), "gpu-box:50100");
        assert!(normalize("gpu-box:0").is_err());
        assert!(normalize("gpu-box:http").unwrap_err().contains("port"));
        assert!(normalize("http://gpu-box").is_err());
        assert!(normalize("").is_err());
    }
}
