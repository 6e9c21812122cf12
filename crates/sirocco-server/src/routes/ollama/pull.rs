//! `POST /api/pull`, `DELETE /api/delete` and `POST /api/copy`: models from Hugging Face by Ollama's names for
//! them (`hf.co/owner/repo:Q4_K_M`; without a quantization, the largest file that fits this
//! machine), downloaded through the app's verified, resumable queue into the library, with
//! Ollama's progress lines; and deleted again — only what Sirocco downloaded (files the user
//! keeps elsewhere are the library's to list, not a client's to delete); and other names for a
//! model (`copy` makes an alias, `delete` of an alias removes only it).

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use sirocco_hub::download::Phase;
use sirocco_hub::library::{self, ModelSource};

use super::{OllamaError, OllamaJson};
use crate::wire::ollama::ModelRequest;
use crate::Shared;

#[derive(Debug, Deserialize)]
pub struct PullRequest {
    #[serde(flatten)]
    model: ModelRequest,
    #[serde(default)]
    stream: Option<bool>,
}

/// `hf.co/owner/repo[:QUANT]` (or `huggingface.co/…`) as a repository and a quantization
/// (`latest`, or none, is none).
pub fn hub_name(name: &str) -> Option<(String, Option<String>)> {
    let rest = ["hf.co/", "huggingface.co/", "https://hf.co/", "https://huggingface.co/"]
        .iter()
        .find_map(|prefix| name.strip_prefix(prefix))?;
    let (repo, tag) = match rest.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag)),
        _ => (rest, None),
    };
    let part_ok = |p: &str| {
        !p.is_empty() && !p.starts_with('.') && p.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    let (owner, model) = repo.split_once('/')?;
    if !part_ok(owner) || !part_ok(model) || tag.is_some_and(|t| !part_ok(t)) {
        return None;
    }
    Some((repo.to_owned(), tag.filter(|t| !t.eq_ignore_ascii_case("latest")).map(str::to_owned)))
}

fn refused_without_hub() -> OllamaError {
    OllamaError::invalid("this server does not download or delete models")
}

pub async fn pull(State(state): Shared, OllamaJson(body): OllamaJson<PullRequest>) -> Result<Response, OllamaError> {
    let access = state.hub.clone().ok_or_else(refused_without_hub)?;
    let name = body.model.model().to_owned();
    let (repo, quant) = hub_name(&name).ok_or_else(|| {
        OllamaError::invalid(format!(
            "Sirocco pulls GGUF models from Hugging Face: name one as hf.co/owner/repo or hf.co/owner/repo:QUANT, not `{name}`"
        ))
    })?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Value>(256);
    // The download goes on if the client hangs up (the queue keeps it, resumable).
    tokio::spawn(async move {
        let _ = tx.send(json!({ "status": "pulling manifest" })).await;
        let hub = (access.hub)();
        let fetched = async {
            let commit = hub.head_commit(&repo).await.map_err(|e| e.to_string())?;
            let entries = hub.gguf_entries(&repo, &commit).await.map_err(|e| e.to_string())?;
            let entry = crate::pull::choose(&hub, &repo, &commit, &entries, quant.as_deref()).await?;
            let digest = entry.parts.first().and_then(|p| p.sha256.clone()).unwrap_or_default();
            let status = format!("pulling {}", &digest[..digest.len().min(12)]);
            // A line each hundredth of the file (and when the phase changes): few enough that
            // a client reading as it goes never misses one.
            let mut verifying = false;
            let mut said = u64::MAX;
            let progress = |p: &sirocco_hub::DownloadProgress| {
                let line = |completed: u64| {
                    json!({ "status": status, "digest": format!("sha256:{digest}"), "total": p.total, "completed": completed })
                };
                match p.phase {
                    Phase::Verifying | Phase::Done => {
                        if !verifying {
                            verifying = true;
                            let _ = tx.try_send(line(p.total));
                            let _ = tx.try_send(json!({ "status": "verifying sha256 digest" }));
                        }
                    }
                    _ => {
                        let step = (p.total / 100).max(1);
                        if said == u64::MAX || p.downloaded / step != said / step {
                            said = p.downloaded;
                            let _ = tx.try_send(line(p.downloaded));
                        }
                    }
                }
            };
            access.queue.download(&hub, &repo, &commit, &entry, progress).await.map_err(|e| e.to_string())?;
            Ok::<_, String>(())
        }
        .await;
        match fetched {
            Ok(()) => {
                if let Some(on_demand) = &state.on_demand {
                    state.catalog(on_demand, true).await;
                }
                let _ = tx.send(json!({ "status": "writing manifest" })).await;
                let _ = tx.send(json!({ "status": "success" })).await;
            }
            Err(e) => {
                let _ = tx.send(json!({ "error": format!("pull model manifest: {e}") })).await;
            }
        }
    });

    if body.stream == Some(false) {
        let mut last = Value::Null;
        while let Some(line) = rx.recv().await {
            last = line;
        }
        return match last.get("error").and_then(Value::as_str) {
            Some(e) => Err(super::server_error(e)),
            None => Ok(Json(last).into_response()),
        };
    }
    let lines = async_stream_lines(rx);
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], Body::from_stream(lines)).into_response())
}

fn async_stream_lines(
    rx: tokio::sync::mpsc::Receiver<Value>,
) -> impl futures_util::Stream<Item = Result<String, std::convert::Infallible>> {
    use futures_util::StreamExt as _;
    tokio_stream::wrappers::ReceiverStream::new(rx).map(|line| Ok(format!("{line}\n")))
}

pub async fn delete(
    State(state): Shared,
    OllamaJson(body): OllamaJson<ModelRequest>,
) -> Result<StatusCode, OllamaError> {
    // An alias (`copy`) goes alone; its model stays.
    if let Some(store) = &state.store {
        let name = body.model();
        if store.remove_model_alias(name.strip_suffix(":latest").unwrap_or(name)).await.map_err(store_error)? {
            return Ok(StatusCode::OK);
        }
    }
    let access = state.hub.clone().ok_or_else(refused_without_hub)?;
    let id = super::resolve(&state, body.model()).await?;
    let roots = (access.roots)();
    let models = tokio::task::spawn_blocking(move || library::scan(&roots)).await.unwrap_or_default();
    let Some(model) = models.into_iter().find(|m| m.id() == id) else {
        return Err(OllamaError::not_found(body.model()));
    };
    if !matches!(model.source, ModelSource::HfCache { .. }) {
        return Err(OllamaError::invalid(format!(
            "{id} is not a download of Sirocco's ({}): remove it in Sirocco's library",
            model.path.display()
        )));
    }
    if let Some(resident) = state.host.resident().into_iter().find(|r| r.id == id) {
        if resident.loaded_by == sirocco_host::LoadedBy::User {
            return Err(OllamaError::invalid(format!("{id} is loaded in Sirocco: eject it there first")));
        }
        state.host.unload(&id).await.map_err(|e| OllamaError(crate::on_demand::host_error(e)))?;
    }
    tokio::task::spawn_blocking(move || library::delete(&model))
        .await
        .map_err(|e| super::server_error(&e.to_string()))?
        .map_err(|e| super::server_error(&e.to_string()))?;
    if let Some(on_demand) = &state.on_demand {
        state.catalog(on_demand, true).await;
    }
    Ok(StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct CopyRequest {
    source: String,
    destination: String,
}

/// `POST /api/copy`: another name for a model (an alias kept in the store; the file is not
/// copied). A tool with a fixed model name (`gpt-4o`) then gets the model the user chose.
pub async fn copy(State(state): Shared, OllamaJson(body): OllamaJson<CopyRequest>) -> Result<StatusCode, OllamaError> {
    let store = state.store.as_ref().ok_or_else(|| OllamaError::invalid("this server keeps no other names"))?;
    let model = super::resolve(&state, &body.source).await?;
    let name = body.destination.trim();
    let name = name.strip_suffix(":latest").unwrap_or(name);
    if name.is_empty() {
        return Err(OllamaError::invalid(format!("destination \"{}\" is invalid", body.destination)));
    }
    // A model's own name stays its own (an alias may be pointed elsewhere).
    if state.alias_of(name).await.is_none() && super::resolve(&state, name).await.is_ok() {
        return Err(OllamaError::invalid(format!("destination \"{name}\" is a model's own name")));
    }
    store.set_model_alias(name, &model).await.map_err(store_error)?;
    Ok(StatusCode::OK)
}

fn store_error(e: sirocco_store::StoreError) -> OllamaError {
    match e {
        sirocco_store::StoreError::Invalid(message) => OllamaError::invalid(message),
        e => super::server_error(&e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::hub_name;

    #[test]
    fn hugging_face_names_as_ollama_writes_them() {
        let q = |s: &str| Some(s.to_owned());
        assert_eq!(
            hub_name("hf.co/bartowski/Mistral-7B-GGUF:Q4_K_M"),
            Some(("bartowski/Mistral-7B-GGUF".into(), q("Q4_K_M")))
        );
        assert_eq!(hub_name("huggingface.co/owner/repo"), Some(("owner/repo".into(), None)));
        assert_eq!(hub_name("hf.co/owner/repo:latest"), Some(("owner/repo".into(), None)));
        for bad in
            ["llama3.2", "hf.co/repo-only", "hf.co/a/b/c", "hf.co/owner/re po", "hf.co/../etc:x", "hf.co/o/r:Q4;rm"]
        {
            assert_eq!(hub_name(bad), None, "{bad}");
        }
    }
}
