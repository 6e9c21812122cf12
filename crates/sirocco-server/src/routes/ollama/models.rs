//! What Ollama's clients ask before they chat: `GET /` ("Ollama is running"), `GET
//! /api/version`, `GET /api/tags` (the library), `POST /api/show` (one model: its details,
//! GGUF keys, template, capabilities) and `GET /api/ps` (the models in memory).

use std::path::Path;
use std::time::{Duration, SystemTime};

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sirocco_engine::gguf_file::GgufSummary;

use super::{name_of, OllamaError, OllamaJson};
use crate::wire::ollama::{Details, ListedModel, ModelRequest, RunningModel};
use crate::Shared;

/// The Ollama version Sirocco answers as: one whose API its clients all speak.
pub const OLLAMA_VERSION: &str = "0.12.0";

pub async fn root() -> &'static str {
    "Ollama is running"
}

pub async fn version() -> Json<Value> {
    Json(json!({ "version": OLLAMA_VERSION }))
}

/// A model file as listed: its header (read once while the file is unchanged), size, time.
struct FileFacts {
    summary: Option<GgufSummary>,
    size: u64,
    modified: SystemTime,
}

fn facts(path: &Path) -> FileFacts {
    let meta = std::fs::metadata(path).ok();
    FileFacts {
        summary: sirocco_hub::library::headers::inspect(&[path.to_path_buf()]).ok(),
        size: meta.as_ref().map_or(0, |m| m.len()),
        modified: meta.and_then(|m| m.modified().ok()).unwrap_or(SystemTime::UNIX_EPOCH),
    }
}

/// A stable digest for a file as it is now (its path, size and time; reading a whole model
/// to hash it would take minutes): it changes when the file does.
fn digest(path: &Path, facts: &FileFacts) -> String {
    let since = facts.modified.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let mut hash = Sha256::new();
    hash.update(path.to_string_lossy().as_bytes());
    hash.update(facts.size.to_le_bytes());
    hash.update(since.as_nanos().to_le_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn details(path: &Path, summary: Option<&GgufSummary>) -> Details {
    let family = summary.map_or_else(String::new, |s| s.architecture.clone());
    let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Details {
        parent_model: String::new(),
        format: "gguf",
        families: if family.is_empty() { vec![] } else { vec![family.clone()] },
        family,
        parameter_size: summary.map_or_else(String::new, |s| parameter_size(s.parameter_count)),
        quantization_level: sirocco_hub::gguf_files::quant_of(&file).unwrap_or_default(),
    }
}

/// `135M`, `7.2B`, as Ollama writes sizes.
fn parameter_size(count: u64) -> String {
    let count = count as f64;
    if count >= 1e9 {
        format!("{:.1}B", count / 1e9)
    } else if count >= 1e6 {
        format!("{:.0}M", count / 1e6)
    } else {
        format!("{:.0}K", count / 1e3)
    }
}

/// The models a request may name: the loaded ones, then (loading on demand) the library's.
async fn models(state: &crate::ServerState) -> Vec<(String, std::path::PathBuf)> {
    let mut models: Vec<(String, std::path::PathBuf)> =
        state.host.resident().into_iter().map(|r| (r.id, r.path)).collect();
    if let Some(on_demand) = &state.on_demand {
        for m in state.catalog(on_demand, false).await.iter() {
            if !models.iter().any(|(id, _)| *id == m.id) {
                models.push((m.id.clone(), m.path.clone()));
            }
        }
    }
    // The other names clients gave models (`copy`), each listed as its model.
    if let Some(store) = &state.store {
        for (alias, target) in store.model_aliases().await.unwrap_or_default() {
            if let Some(path) = models.iter().find(|(id, _)| *id == target).map(|(_, p)| p.clone()) {
                models.push((alias, path));
            }
        }
    }
    models
}

pub async fn tags(State(state): Shared) -> Json<Value> {
    let models = models(&state).await;
    let listed = tokio::task::spawn_blocking(move || {
        let mut listed: Vec<(SystemTime, ListedModel)> = models
            .into_iter()
            .map(|(id, path)| {
                let facts = facts(&path);
                let model = ListedModel {
                    name: name_of(&id),
                    model: name_of(&id),
                    modified_at: super::timestamp(facts.modified),
                    size: facts.size,
                    digest: digest(&path, &facts),
                    details: details(&path, facts.summary.as_ref()),
                };
                (facts.modified, model)
            })
            .collect();
        // Newest first, as Ollama lists them.
        listed.sort_by_key(|m| std::cmp::Reverse(m.0));
        listed.into_iter().map(|(_, m)| m).collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    Json(json!({ "models": listed }))
}

pub async fn show(
    State(state): Shared,
    OllamaJson(body): OllamaJson<ModelRequest>,
) -> Result<Json<Value>, OllamaError> {
    let id = super::resolve(&state, body.model()).await?;
    let path = models(&state).await.into_iter().find(|(m, _)| *m == id).map(|(_, p)| p);
    let Some(path) = path else { return Err(OllamaError::not_found(body.model())) };
    let projector = match &state.on_demand {
        Some(on_demand) => {
            state.catalog(on_demand, false).await.iter().any(|m| m.id == id && m.params.projector.is_some())
        }
        None => false,
    } || state
        .host
        .resident()
        .iter()
        .any(|r| r.id == id && r.model.as_ref().is_some_and(|m| m.projector.is_some()));
    let facts = tokio::task::spawn_blocking({
        let path = path.clone();
        move || facts(&path)
    })
    .await
    .map_err(|e| OllamaError(crate::ApiError::unavailable(e.to_string())))?;
    let summary = facts.summary.as_ref();
    let template = summary.and_then(|s| s.chat_template.clone()).unwrap_or_default();
    let mut capabilities = Vec::new();
    if summary.is_some_and(GgufSummary::is_embedding_model) {
        capabilities.push("embedding");
    } else {
        capabilities.push("completion");
        if template.contains("tools") {
            capabilities.push("tools");
        }
        if projector {
            capabilities.push("vision");
        }
    }
    Ok(Json(json!({
        "modelfile": format!("# Modelfile generated by Sirocco\nFROM {}\n", path.display()),
        "parameters": "",
        "template": template,
        "details": details(&path, summary),
        "model_info": summary.map(model_info),
        "capabilities": capabilities,
        "modified_at": super::timestamp(facts.modified),
    })))
}

/// The GGUF keys Ollama's `model_info` shows (those the header summary has).
fn model_info(s: &GgufSummary) -> Value {
    let arch = &s.architecture;
    let mut info = serde_json::Map::new();
    info.insert("general.architecture".into(), json!(arch));
    info.insert("general.parameter_count".into(), json!(s.parameter_count));
    for (key, value) in [
        ("context_length", s.context_length),
        ("embedding_length", s.embedding_length),
        ("block_count", s.block_count),
        ("attention.head_count", s.head_count),
        ("attention.head_count_kv", s.head_count_kv),
        ("attention.sliding_window", s.sliding_window),
        ("expert_count", s.expert_count),
        ("expert_used_count", s.expert_used_count),
        ("feed_forward_length", s.feed_forward_length),
    ] {
        if let Some(value) = value {
            info.insert(format!("{arch}.{key}"), json!(value));
        }
    }
    if let Some(n) = s.vocab_size {
        info.insert("tokenizer.ggml.vocab_size".into(), json!(n));
    }
    Value::Object(info)
}

pub async fn ps(State(state): Shared) -> Json<Value> {
    let idle = state.on_demand.as_ref().and_then(|o| o.idle_unload);
    let now = SystemTime::now();
    let running: Vec<RunningModel> = state
        .host
        .resident()
        .into_iter()
        .filter_map(|r| {
            let model = r.model.as_ref()?;
            let facts = FileFacts {
                summary: Some(model.summary.clone()),
                size: model.summary.file_size,
                modified: std::fs::metadata(&r.path).and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH),
            };
            // Models the user loaded stay until ejected; the server's go when idle for its time-out.
            let expires = match (r.loaded_by, r.keep.idle_limit(idle)) {
                (sirocco_host::LoadedBy::Server, Some(idle)) => {
                    let since = r.idle_since_ms.map_or(now, |ms| SystemTime::UNIX_EPOCH + Duration::from_millis(ms));
                    since + idle
                }
                _ => now + Duration::from_secs(300 * 365 * 86_400),
            };
            Some(RunningModel {
                name: name_of(&r.id),
                model: name_of(&r.id),
                size: r.memory.ram + r.memory.vram,
                digest: digest(&r.path, &facts),
                details: details(&r.path, facts.summary.as_ref()),
                expires_at: super::timestamp(expires),
                size_vram: r.memory.vram,
                context_length: model.context_length,
            })
        })
        .collect();
    Json(json!({ "models": running }))
}
