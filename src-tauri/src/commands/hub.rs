//! The model browser and downloads: search, a repository's GGUF files with a fit verdict for
//! this machine, and downloads with progress, pause/resume and cancel.

use sirocco_engine::hardware::Hardware;
use sirocco_engine::planner::{self, FitPlan};
use sirocco_hub::download::DownloadProgress;
use sirocco_hub::{GgufEntry, QueuedDownload, RemoteFile, RepoSummary, SearchQuery};
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{blocking, IpcResult};
use crate::AppState;

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn hub_search(state: State<'_, AppState>, query: SearchQuery) -> IpcResult<Vec<RepoSummary>> {
    Ok(state.hub().search(&query).await?)
}

/// A repository page: the commit it is pinned to, its model card and its GGUF models.
#[derive(serde::Serialize, ts_rs::TS)]
pub struct RepoPage {
    id: String,
    commit: String,
    readme: String,
    entries: Vec<GgufEntry>,
}

#[tauri::command]
#[tracing::instrument(skip_all, fields(id = ?id), err(level = "warn", Display))]
pub async fn hub_repo(state: State<'_, AppState>, id: String) -> IpcResult<RepoPage> {
    let hub = state.hub();
    let commit = hub.head_commit(&id).await?;
    let (readme, entries) = tokio::join!(hub.readme(&id, &commit), hub.gguf_entries(&id, &commit));
    Ok(RepoPage { id, commit, readme: readme.unwrap_or_default(), entries: entries? })
}

/// How a remote model fits this machine, from its files' headers alone (range requests).
#[derive(serde::Serialize, ts_rs::TS)]
pub struct RemoteFit {
    summary: sirocco_engine::GgufSummary,
    fit: FitPlan,
}

#[tauri::command]
#[tracing::instrument(skip_all, fields(id = ?id, commit = ?commit), err(level = "warn", Display))]
pub async fn hub_fit(
    state: State<'_, AppState>,
    id: String,
    commit: String,
    parts: Vec<RemoteFile>,
    projector: Option<RemoteFile>,
) -> IpcResult<RemoteFit> {
    let summary = sirocco_hub::remote_header::read_model(&state.hub(), &id, &commit, &parts).await?;
    let workers = super::workers::usable_memory(&state).await;
    // The repository's projector comes with the model: its memory counts.
    let projector = projector.map(|p| p.size);
    let fit = planner::fit_with_projector(&summary, &Hardware::detect(), &workers, None, projector);
    Ok(RemoteFit { summary, fit })
}

/// The entry named `name` at `commit`, as the Hub lists it (sizes and hashes come from the Hub,
/// never from the page).
async fn entry_named(state: &AppState, id: &str, commit: &str, name: &str) -> IpcResult<GgufEntry> {
    let entries = state.hub().gguf_entries(id, commit).await?;
    Ok(entries.into_iter().find(|e| e.name == name).ok_or_else(|| format!("{id} has no model {name}"))?)
}

/// The download queue with each item's bytes on disk (no network).
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn download_list(state: State<'_, AppState>) -> IpcResult<Vec<QueuedDownload>> {
    let (queue, hub) = (state.downloads.clone(), state.hub());
    blocking(move || queue.list(&hub)).await
}

/// Queues and downloads the model `name` of `id` (all its parts); progress goes to
/// `on_progress`. Resolves with the path to load once every part is verified.
#[tauri::command]
#[tracing::instrument(skip_all, fields(id = ?id, commit = ?commit, name = ?name), err(level = "warn", Display))]
pub async fn download_start(
    state: State<'_, AppState>,
    id: String,
    commit: String,
    name: String,
    on_progress: Channel<DownloadProgress>,
) -> IpcResult<String> {
    let entry = entry_named(&state, &id, &commit, &name).await?;
    let paths = state.downloads.download(&state.hub(), &id, &commit, &entry, report_to(on_progress)).await?;
    Ok(paths[0].to_string_lossy().into_owned())
}

/// Resumes the queued `key` (paused, failed, or cut by an app restart) from the files the queue
/// holds: only the missing bytes are fetched.
#[tauri::command]
#[tracing::instrument(skip_all, fields(key = ?key), err(level = "warn", Display))]
pub async fn download_resume(
    state: State<'_, AppState>,
    key: String,
    on_progress: Channel<DownloadProgress>,
) -> IpcResult<String> {
    let paths = state.downloads.resume(&state.hub(), &key, report_to(on_progress)).await?;
    Ok(paths[0].to_string_lossy().into_owned())
}

/// Pauses a download (what was fetched stays; resuming continues from there).
#[tauri::command]
#[tracing::instrument(skip_all, fields(key = ?key), err(level = "warn", Display))]
pub async fn download_pause(state: State<'_, AppState>, key: String) -> IpcResult<()> {
    let (queue, hub) = (state.downloads.clone(), state.hub());
    blocking(move || queue.pause(&hub, &key)).await
}

/// Stops a download, takes it out of the queue and deletes what it fetched.
#[tauri::command]
#[tracing::instrument(skip_all, fields(key = ?key), err(level = "warn", Display))]
pub async fn download_cancel(state: State<'_, AppState>, key: String) -> IpcResult<()> {
    let (queue, hub) = (state.downloads.clone(), state.hub());
    blocking(move || queue.cancel(&hub, &key)).await
}

fn report_to(channel: Channel<DownloadProgress>) -> impl FnMut(&DownloadProgress) {
    move |p| {
        let _ = channel.send(p.clone());
    }
}
