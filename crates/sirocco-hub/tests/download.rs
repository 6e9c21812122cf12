//! Downloads through `hf-hub` from the fake hub, with every fault it can inject: each ends
//! verified or with a clear error, and nothing corrupt or partial is visible in the cache.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::json;
use sirocco_hub::download::{self, DownloadOptions, DownloadRequest, Phase};
use sirocco_hub::{Hub, HubConfig, HubError};

struct Setup {
    fake: FakeHub,
    cache: tempfile::TempDir,
    hub: Hub,
    request: DownloadRequest,
    size: u64,
    sha: String,
}

async fn setup() -> Setup {
    let fake = FakeHub::start();
    let cache = tempfile::tempdir().unwrap();
    let hub = Hub::new(HubConfig {
        endpoint: Some(fake.api.clone()),
        token: None,
        cache_dir: Some(cache.path().into()),
        retry_base_delay: Some(Duration::from_millis(5)),
    })
    .unwrap();
    let commit = hub.head_commit(SMOL_REPO).await.unwrap();
    let entry = hub.gguf_entries(SMOL_REPO, &commit).await.unwrap().remove(0);
    let (size, sha) = (entry.total_size, entry.parts[0].sha256.clone().unwrap());
    let request = DownloadRequest { repo: SMOL_REPO.into(), commit, files: entry.parts };
    Setup { fake, cache, hub, request, size, sha }
}

fn fast() -> DownloadOptions {
    DownloadOptions { base_delay: Duration::from_millis(10), max_attempts: 4, ..DownloadOptions::default() }
}

fn snapshot(s: &Setup) -> std::path::PathBuf {
    sirocco_hub::cache::snapshot_path(s.cache.path(), SMOL_REPO, &s.request.commit, SMOL_FILE).unwrap()
}

fn incomplete(s: &Setup) -> std::path::PathBuf {
    sirocco_hub::cache::incomplete_path(s.cache.path(), SMOL_REPO, &s.sha)
}

/// The download verified, is in the HF cache layout, and loads as a model.
fn assert_verified(s: &Setup, paths: &[std::path::PathBuf]) {
    assert_eq!(paths, [snapshot(s)]);
    assert_eq!(sha256_file(&paths[0]), s.sha);
    assert!(std::fs::symlink_metadata(&paths[0]).unwrap().file_type().is_symlink());
    assert!(!incomplete(s).exists());
    sirocco_gguf::inspect(&paths[0]).unwrap();
}

fn assert_nothing_visible(s: &Setup) {
    assert!(!snapshot(s).exists(), "a failed download is visible in snapshots/");
    assert!(!sirocco_hub::cache::blob_path(s.cache.path(), SMOL_REPO, &s.sha).exists());
}

async fn run(
    s: &Setup,
    options: &DownloadOptions,
) -> (Result<Vec<std::path::PathBuf>, HubError>, Vec<sirocco_hub::DownloadProgress>) {
    let mut events = Vec::new();
    let cancel = Arc::new(AtomicBool::new(false));
    let r = download::download(&s.hub, &s.request, options, |p| events.push(p.clone()), &cancel).await;
    (r, events)
}

/// Bytes the CDN sent for the file, over all requests.
async fn bytes_sent(s: &Setup) -> u64 {
    s.fake.log().await.iter().filter(|r| r["method"] == "GET").map(|r| r["sent"].as_u64().unwrap()).sum()
}

#[tokio::test]
async fn a_clean_download_verifies_and_reports_progress() {
    let s = setup().await;
    s.fake.faults(json!([{"kind": "drip", "delay": 0.002, "times": 1}])).await;
    let (r, events) = run(&s, &DownloadOptions { progress_interval: Duration::from_millis(20), ..fast() }).await;
    assert_verified(&s, &r.unwrap());
    assert!(events.len() >= 3, "{} progress events", events.len());
    let last = events.last().unwrap();
    assert_eq!((last.downloaded, last.total, &last.phase), (s.size, s.size, &Phase::Done));
    assert!(events.iter().any(|e| e.phase == Phase::Verifying));
    assert!(events.windows(2).all(|w| w[0].downloaded <= w[1].downloaded));
    assert!(events
        .iter()
        .any(|e| e.phase == Phase::Downloading && e.bytes_per_second > 0.0 && e.eta_seconds.is_some()));
    assert_eq!(bytes_sent(&s).await, s.size);
    // A second download finds the verified file and fetches nothing.
    s.fake.faults(json!([])).await;
    assert_verified(&s, &run(&s, &fast()).await.0.unwrap());
    assert_eq!(bytes_sent(&s).await, 0);
}

/// Errors before the body (5xx) are retried by `hf-hub` itself; dropped connections mid-body
/// by the download, with doubling delays, each time from the byte where the data stopped.
#[tokio::test]
async fn server_errors_are_retried() {
    let s = setup().await;
    s.fake.faults(json!([{"kind": "status", "code": 500, "times": 2}])).await;
    assert_verified(&s, &run(&s, &fast()).await.0.unwrap());
    let statuses: Vec<_> =
        s.fake.log().await.iter().filter(|r| r["method"] == "GET").map(|r| r["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [500, 500, 206]);
}

#[tokio::test]
async fn a_dropped_connection_resumes_where_it_stopped() {
    for kind in ["reset", "truncate"] {
        let s = setup().await;
        s.fake.faults(json!([{"kind": kind, "after_bytes": 10_000_000, "times": 2}])).await;
        let (r, events) = run(&s, &fast()).await;
        assert_verified(&s, &r.unwrap());
        let log = s.fake.log().await;
        let gets: Vec<_> = log.iter().filter(|r| r["method"] == "GET").collect();
        assert_eq!(gets.len(), 3, "{kind}: {log:?}");
        let (first, second) = (gets[0]["sent"].as_u64().unwrap(), gets[1]["sent"].as_u64().unwrap());
        let (start2, start3) = (gets[1]["start"].as_u64().unwrap(), gets[2]["start"].as_u64().unwrap());
        assert!(start2 > 0 && start3 > start2, "{kind}: {log:?}");
        if kind == "reset" {
            // A reset discards what was still in flight: the next request starts at what arrived.
            assert!(start2 <= first && start3 - start2 <= second, "{kind}: {log:?}");
        } else {
            // A clean close loses nothing: each request starts exactly where the last one ended.
            assert_eq!((start2, start3), (first, first + second), "{kind}");
            assert_eq!(bytes_sent(&s).await, s.size, "{kind}: bytes fetched twice");
        }
        assert_eq!(gets[2]["end"].as_u64().unwrap(), s.size - 1);
        let delays: Vec<_> = events
            .iter()
            .filter_map(|e| match &e.phase {
                Phase::Retrying { delay_ms, .. } => Some(*delay_ms),
                _ => None,
            })
            .collect();
        // Progress was made before each failure, so each waits the first delay again.
        assert_eq!(delays, [10, 10], "{kind}");
    }
}

/// A response whose Content-Length disagrees with the range asked for is not trusted at all.
#[tokio::test]
async fn a_wrong_content_length_is_refused_and_fetched_again() {
    let s = setup().await;
    s.fake.faults(json!([{"kind": "bad_length", "times": 1}])).await;
    let (r, events) = run(&s, &fast()).await;
    assert_verified(&s, &r.unwrap());
    let error = events.iter().find_map(|e| match &e.phase {
        Phase::Retrying { error, .. } => Some(error.clone()),
        _ => None,
    });
    assert!(error.is_some_and(|e| e.contains("announced")));
    let gets: Vec<_> = s.fake.log().await.into_iter().filter(|r| r["method"] == "GET").collect();
    assert_eq!(gets.len(), 2);
    assert_eq!(gets[1]["start"], 0);
}

#[tokio::test]
async fn pause_and_resume_in_a_new_session_fetch_nothing_twice() {
    let s = setup().await;
    s.fake.faults(json!([{"kind": "drip", "delay": 0.01, "times": -1}])).await;
    let cancel = Arc::new(AtomicBool::new(false));
    let pause = cancel.clone();
    let pause_at_progress = move |p: &sirocco_hub::DownloadProgress| {
        if p.downloaded > 2_000_000 {
            pause.store(true, Ordering::Relaxed);
        }
    };
    let paused = download::download(&s.hub, &s.request, &fast(), pause_at_progress, &cancel).await;
    assert!(matches!(paused, Err(HubError::Cancelled)), "{paused:?}");
    let kept = std::fs::metadata(incomplete(&s)).unwrap().len();
    assert!(kept >= 2_000_000 && kept < s.size);
    assert_nothing_visible(&s);

    // A new client (as after an app restart) resumes from the partial file.
    s.fake.faults(json!([])).await;
    let hub = Hub::new(HubConfig {
        endpoint: Some(s.fake.api.clone()),
        token: None,
        cache_dir: Some(s.cache.path().into()),
        retry_base_delay: Some(Duration::from_millis(5)),
    })
    .unwrap();
    let cancel = Arc::new(AtomicBool::new(false));
    let paths = download::download(&hub, &s.request, &fast(), |_| {}, &cancel).await.unwrap();
    assert_verified(&s, &paths);
    let log = s.fake.log().await;
    let gets: Vec<_> = log.iter().filter(|r| r["method"] == "GET").collect();
    assert_eq!(gets.len(), 1, "{log:?}");
    assert_eq!(gets[0]["start"].as_u64().unwrap(), kept);
}

#[tokio::test]
async fn a_corrupt_body_is_fetched_again_once_then_refused() {
    let s = setup().await;
    s.fake.faults(json!([{"kind": "bad_hash", "times": 1}])).await;
    assert_verified(&s, &run(&s, &fast()).await.0.unwrap());

    let s = setup().await;
    s.fake.faults(json!([{"kind": "bad_hash", "times": -1}])).await;
    let err = run(&s, &fast()).await.0.unwrap_err();
    assert!(matches!(err, HubError::ChecksumMismatch { .. }), "{err}");
    assert!(err.to_string().contains(&s.sha));
    assert_nothing_visible(&s);
    assert!(!incomplete(&s).exists(), "corrupt bytes were kept");
}

#[tokio::test]
async fn a_server_that_keeps_failing_gives_a_clear_error() {
    let s = setup().await;
    s.fake.faults(json!([{"kind": "status", "code": 503, "times": -1}])).await;
    let err = run(&s, &fast()).await.0.unwrap_err();
    assert!(matches!(err, HubError::RetriesExhausted { attempts: 4, .. }), "{err}");
    let retries = s.fake.log().await.iter().filter(|r| r["method"] == "GET").count();
    assert!(retries >= 4, "{retries} requests");
    assert!(err.to_string().contains(SMOL_FILE));
    assert_nothing_visible(&s);
}

#[tokio::test]
async fn a_slow_drip_still_completes() {
    let s = setup().await;
    s.fake.faults(json!([{"kind": "drip", "delay": 0.0005, "times": 1}])).await;
    assert_verified(&s, &run(&s, &fast()).await.0.unwrap());
}

#[tokio::test]
async fn not_enough_disk_space_is_refused_before_starting() {
    let s = setup().await;
    let options = DownloadOptions { disk_margin: u64::MAX / 4, ..fast() };
    let err = run(&s, &options).await.0.unwrap_err();
    assert!(matches!(err, HubError::DiskFull { .. }), "{err}");
    assert!(err.to_string().contains("not enough disk space"));
    assert_eq!(bytes_sent(&s).await, 0);
    assert_nothing_visible(&s);
}

#[tokio::test]
async fn a_partial_file_longer_than_the_file_starts_over() {
    let s = setup().await;
    let partial = incomplete(&s);
    std::fs::create_dir_all(partial.parent().unwrap()).unwrap();
    std::fs::write(&partial, vec![7u8; s.size as usize + 10]).unwrap();
    assert_verified(&s, &run(&s, &fast()).await.0.unwrap());
}

/// A split model is one entry, one download (both parts, each verified) and one library model
/// whose summary counts both parts — sized up remotely from its parts' headers exactly as the
/// downloaded files are.
#[tokio::test]
async fn a_split_model_downloads_as_one_item_and_is_one_model() {
    let fake = FakeHub::start();
    let cache = tempfile::tempdir().unwrap();
    let hub = Hub::new(HubConfig {
        endpoint: Some(fake.api.clone()),
        token: None,
        cache_dir: Some(cache.path().into()),
        retry_base_delay: Some(Duration::from_millis(5)),
    })
    .unwrap();
    let commit = hub.head_commit(SPLIT_REPO).await.unwrap();
    let entries = hub.gguf_entries(SPLIT_REPO, &commit).await.unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert_eq!(entry.parts.len(), 2);
    assert_eq!(entry.total_size, entry.parts.iter().map(|p| p.size).sum::<u64>());

    let remote = sirocco_hub::remote_header::read_model(&hub, SPLIT_REPO, &commit, &entry.parts).await.unwrap();
    let request = DownloadRequest { repo: SPLIT_REPO.into(), commit, files: entry.parts.clone() };
    let mut progress = Vec::new();
    let paths = download::download(
        &hub,
        &request,
        &DownloadOptions::default(),
        |p| progress.push(p.clone()),
        &Arc::new(AtomicBool::new(false)),
    )
    .await
    .unwrap();
    assert_eq!(paths.len(), 2);
    let last = progress.last().unwrap();
    assert_eq!(
        (last.downloaded, last.total),
        (entry.total_size, entry.total_size),
        "one item's progress covers both parts"
    );

    let roots = sirocco_hub::library::LibraryRoots { hf_cache: Some(cache.path().into()), ..Default::default() };
    let models = sirocco_hub::library::scan(&roots);
    assert_eq!(models.len(), 1);
    let model = &models[0];
    assert_eq!(model.name, "SmolLM2-135M-Instruct-Q4_1.gguf");
    assert_eq!(model.parts.len(), 2);
    let local = model.summary.as_ref().expect("the split model is whole and valid");
    assert_eq!(local.tensor_bytes, remote.tensor_bytes);
    assert_eq!(local.layer_bytes, remote.layer_bytes);
    assert_eq!(local.file_size, entry.total_size);
}
