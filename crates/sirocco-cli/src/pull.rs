//! `sirocco pull <repo> [--quant Q]`: download a GGUF model from the Hub into the Hugging Face
//! cache, resumably and verified, with a progress bar. Honours `HF_ENDPOINT`, `HF_TOKEN` and
//! `HF_HOME` / `HF_HUB_CACHE` like other Hugging Face tools.

use std::io::Write;
use std::sync::Arc;

use sirocco_hub::download::Phase;
use sirocco_hub::DownloadQueue;

use crate::format::{bytes, duration};

pub async fn run(repo: &str, quant: Option<&str>) -> Result<(), String> {
    let hub = sirocco_runtime::hub_of(&sirocco_runtime::Settings::of_app(), None).map_err(|e| e.to_string())?;
    let commit = hub.head_commit(repo).await.map_err(|e| e.to_string())?;
    let entries = hub.gguf_entries(repo, &commit).await.map_err(|e| e.to_string())?;
    let entry = sirocco_server::pull::choose(&hub, repo, &commit, &entries, quant).await?;
    eprintln!("{repo} · {} · {} · commit {}", entry.name, bytes(entry.total_size), &commit[..commit.len().min(12)]);

    // The queue the app shows too: a Ctrl-C leaves the download paused there, resumable from
    // the app or by this command again.
    let queue = Arc::new(DownloadQueue::default());
    let key = sirocco_hub::queue::key_of(repo, &entry.name);
    let (on_signal, signal_hub) = (queue.clone(), hub.clone());
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = tokio::task::spawn_blocking(move || on_signal.pause(&signal_hub, &key)).await;
        }
    });
    let result = queue.download(&hub, repo, &commit, &entry, draw).await;
    eprintln!();
    match result {
        Ok(paths) => {
            println!("{}", paths[0].display());
            Ok(())
        }
        Err(sirocco_hub::HubError::Cancelled) => {
            Err("paused: run the same command again to resume where it stopped".into())
        }
        Err(e) => Err(e.to_string()),
    }
}

fn draw(p: &sirocco_hub::DownloadProgress) {
    let width = 30;
    let fraction = if p.total > 0 { p.downloaded as f64 / p.total as f64 } else { 0.0 };
    let filled = (fraction * width as f64).round() as usize;
    let bar: String = "█".repeat(filled) + &"░".repeat(width - filled.min(width));
    let status = match &p.phase {
        Phase::Downloading => match p.eta_seconds {
            Some(eta) => format!("{}/s · {} left", bytes(p.bytes_per_second as u64), duration(eta)),
            None => String::new(),
        },
        Phase::Retrying { attempt, delay_ms, error } => format!("retry {attempt} in {delay_ms} ms ({error})"),
        Phase::Waiting => "waiting for another download of this file (the app or another terminal)…".into(),
        Phase::Verifying => "verifying sha256…".into(),
        Phase::Done => "done, verified".into(),
    };
    let mut err = std::io::stderr();
    let _ =
        write!(err, "\r\x1b[2K{bar} {:>5.1}% {}/{} {status}", fraction * 100.0, bytes(p.downloaded), bytes(p.total));
    let _ = err.flush();
}
