//! Downloads a client asks for (Ollama's `/api/pull`) and what `sirocco pull` shares with them:
//! which file of a repository to fetch ([`choose`]). Downloads go through the Hub crate's
//! verified, resumable queue (the app's), into the Hugging Face cache the library reads.

use std::sync::Arc;

use sirocco_engine::hardware::Hardware;
use sirocco_engine::planner::{self, FitVerdict};
use sirocco_hub::library::LibraryRoots;
use sirocco_hub::{DownloadQueue, GgufEntry, Hub};

/// What the server needs to download and delete for clients: the Hub as configured now, the
/// download queue, and where the library is now.
#[derive(Clone)]
pub struct HubAccess {
    pub hub: Arc<dyn Fn() -> Hub + Send + Sync>,
    pub queue: Arc<DownloadQueue>,
    pub roots: Arc<dyn Fn() -> LibraryRoots + Send + Sync>,
}

/// The file of `repo` (at `commit`) to download: the one of quantization `quant`, or without
/// one the largest the planner says fits this machine.
pub async fn choose(
    hub: &Hub,
    repo: &str,
    commit: &str,
    entries: &[GgufEntry],
    quant: Option<&str>,
) -> Result<GgufEntry, String> {
    if entries.is_empty() {
        return Err(format!("{repo} has no GGUF files"));
    }
    if let Some(q) = quant {
        return entries
            .iter()
            .find(|e| e.quant.as_deref().is_some_and(|eq| eq.eq_ignore_ascii_case(q)))
            .cloned()
            .ok_or_else(|| {
                let have: Vec<_> = entries.iter().filter_map(|e| e.quant.clone()).collect();
                format!("{repo} has no {q} file (it has: {})", have.join(", "))
            });
    }
    let hardware = Hardware::detect();
    let mut unread = Vec::new();
    for entry in entries.iter().rev() {
        let summary = match sirocco_hub::remote_header::read_model(hub, repo, commit, &entry.parts).await {
            Ok(summary) => summary,
            Err(e) => {
                unread.push(format!("{}: {e}", entry.name));
                continue;
            }
        };
        if planner::fit(&summary, &hardware, None).verdict != FitVerdict::TooLarge {
            return Ok(entry.clone());
        }
    }
    // A verdict only from files that were judged: one that could not be read is said so.
    if unread.is_empty() {
        Err(format!("no GGUF file in {repo} fits this machine's memory"))
    } else {
        Err(format!(
            "could not judge which GGUF file of {repo} fits this machine (name a quantization): {}",
            unread.join("; ")
        ))
    }
}
