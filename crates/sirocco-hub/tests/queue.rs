//! The download queue against the fake hub: it survives a restart (a new queue, a new client),
//! is shared by two queues on one cache (the app and a terminal), pauses, lists and cancels with
//! the Hub gone, and a damaged queue file costs no download.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::json;
use sirocco_hub::download::{DownloadOptions, DownloadProgress};
use sirocco_hub::queue::{key_of, State};
use sirocco_hub::{DownloadQueue, GgufEntry, Hub, HubConfig, HubError};

fn hub_at(endpoint: &str, cache: &std::path::Path) -> Hub {
    Hub::new(HubConfig {
        endpoint: Some(endpoint.to_owned()),
        token: None,
        cache_dir: Some(cache.into()),
        retry_base_delay: Some(Duration::from_millis(5)),
    })
    .unwrap()
}

fn queue() -> DownloadQueue {
    DownloadQueue::new(DownloadOptions {
        base_delay: Duration::from_millis(10),
        max_attempts: 3,
        ..DownloadOptions::default()
    })
}

struct Setup {
    fake: FakeHub,
    cache: tempfile::TempDir,
    hub: Hub,
    commit: String,
    entry: GgufEntry,
}

/// The fake hub sending SmolLM2 a chunk per `drip` seconds, an empty cache, and the model's entry.
async fn on_a_slow_link(drip: f64) -> Setup {
    let fake = FakeHub::start();
    let cache = tempfile::tempdir().unwrap();
    let hub = hub_at(&fake.api, cache.path());
    let commit = hub.head_commit(SMOL_REPO).await.unwrap();
    let entry = hub.gguf_entries(SMOL_REPO, &commit).await.unwrap().remove(0);
    fake.faults(json!([{"kind": "drip", "delay": drip, "times": -1}])).await;
    Setup { fake, cache, hub, commit, entry }
}

/// A progress callback that tells `started` once bytes arrive.
fn telling_when_bytes_arrive(started: &tokio::sync::Notify) -> impl FnMut(&DownloadProgress) + '_ {
    let mut told = false;
    move |p| {
        if p.downloaded > 0 && !told {
            told = true;
            started.notify_one();
        }
    }
}

/// Downloads until 2 MB are on disk, then pauses through the queue (as the page's Pause does).
async fn download_then_pause(queue: &DownloadQueue, hub: &Hub, commit: &str, entry: &GgufEntry) -> u64 {
    let key = key_of(SMOL_REPO, &entry.name);
    let paused = AtomicBool::new(false);
    let result = queue
        .download(hub, SMOL_REPO, commit, entry, |p| {
            if p.downloaded > 2_000_000 && !paused.swap(true, Ordering::Relaxed) {
                queue.pause(hub, &key).unwrap();
            }
        })
        .await;
    assert!(matches!(result, Err(HubError::Cancelled)), "{result:?}");
    let listed = queue.list(hub).unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].state, State::Paused);
    listed[0].downloaded
}

#[tokio::test]
async fn a_paused_download_is_listed_with_its_bytes_and_resumes_after_a_restart_from_the_queue() {
    let Setup { fake, cache, hub, commit, entry } = on_a_slow_link(0.01).await;
    let kept = download_then_pause(&queue(), &hub, &commit, &entry).await;
    assert!(kept >= 2_000_000 && kept < entry.total_size, "{kept}");

    // A new process: a new queue and a new client on the same cache.
    fake.faults(json!([])).await;
    let (queue, hub) = (queue(), hub_at(&fake.api, cache.path()));
    let listed = queue.list(&hub).unwrap();
    assert_eq!((listed[0].key.as_str(), listed[0].downloaded), (key_of(SMOL_REPO, &entry.name).as_str(), kept));
    assert_eq!(listed[0].entry, entry, "the queue keeps the Hub's sizes and hashes");
    let paths = queue.resume(&hub, &listed[0].key, |_| {}).await.unwrap();
    assert_eq!(sha256_file(&paths[0]), entry.parts[0].sha256.clone().unwrap());
    assert!(queue.list(&hub).unwrap().is_empty(), "a verified download leaves the queue");
    let gets: Vec<_> = fake.log().await.into_iter().filter(|r| r["method"] == "GET").collect();
    assert_eq!(gets.last().unwrap()["start"].as_u64().unwrap(), kept, "resumed where it stopped: {gets:?}");
}

#[tokio::test]
async fn with_the_hub_gone_the_queue_still_lists_pauses_and_cancels() {
    let Setup { fake, cache, hub, commit, entry } = on_a_slow_link(0.01).await;
    let queue = queue();
    download_then_pause(&queue, &hub, &commit, &entry).await;
    let partial = sirocco_hub::cache::incomplete_path(cache.path(), SMOL_REPO, entry.parts[0].sha256.as_ref().unwrap());
    assert!(partial.exists());
    let api = fake.api.clone();
    drop(fake);

    let offline = hub_at(&api, cache.path());
    let key = key_of(SMOL_REPO, &entry.name);
    queue.pause(&offline, &key).unwrap();
    assert_eq!(queue.list(&offline).unwrap()[0].state, State::Paused);
    // Resuming needs the bytes: it fails with the network's error and says so in the queue.
    let resumed = queue.resume(&offline, &key, |_| {}).await;
    assert!(resumed.is_err());
    let listed = queue.list(&offline).unwrap();
    assert!(matches!(&listed[0].state, State::Failed { message } if !message.is_empty()), "{listed:?}");
    queue.cancel(&offline, &key).unwrap();
    assert!(queue.list(&offline).unwrap().is_empty());
    assert!(!partial.exists(), "cancel deletes what was fetched");
    assert!(matches!(queue.cancel(&offline, &key), Err(HubError::NotQueued(_))));
}

#[tokio::test]
async fn two_queues_on_one_cache_see_each_other_and_one_download_of_a_file_at_a_time() {
    let Setup { fake, cache: _cache, hub, commit, entry } = on_a_slow_link(0.005).await;
    let (app, terminal) = (Arc::new(queue()), queue());
    let key = key_of(SMOL_REPO, &entry.name);

    // The terminal's pull is under way when the app lists the queue and resumes it (as the page
    // does with an item left downloading): the app waits for the terminal's fetch, fetching
    // nothing itself, and both end with the verified file.
    let started = Arc::new(tokio::sync::Notify::new());
    let (pull_hub, pull_entry, pull_commit, told) = (hub.clone(), entry.clone(), commit.clone(), started.clone());
    let pull = async move {
        terminal.download(&pull_hub, SMOL_REPO, &pull_commit, &pull_entry, telling_when_bytes_arrive(&told)).await
    };
    let app_side = async {
        started.notified().await;
        let listed = app.list(&hub).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].state, State::Downloading);
        assert!(!app.is_running(&key), "running in the other queue, not this one");
        app.resume(&hub, &key, |_| {}).await
    };
    let (pulled, resumed) = tokio::join!(pull, app_side);
    assert_eq!(pulled.unwrap(), resumed.unwrap());
    let gets = fake.log().await.into_iter().filter(|r| r["method"] == "GET").count();
    assert_eq!(gets, 1, "the file was fetched once");
    assert!(app.list(&hub).unwrap().is_empty());
}

#[tokio::test]
async fn a_damaged_queue_file_is_kept_aside_and_the_download_resumes_its_bytes() {
    let Setup { fake, cache, hub, commit, entry } = on_a_slow_link(0.01).await;
    let queue = queue();
    let kept = download_then_pause(&queue, &hub, &commit, &entry).await;
    let file = cache.path().join(".sirocco/downloads.json");
    std::fs::write(&file, b"{\"not\": \"a queue\"").unwrap();

    assert!(queue.list(&hub).unwrap().is_empty());
    assert!(cache.path().join(".sirocco/downloads.json.unreadable").exists(), "the damaged file is kept");
    fake.faults(json!([])).await;
    queue.download(&hub, SMOL_REPO, &commit, &entry, |_| {}).await.unwrap();
    let gets: Vec<_> = fake.log().await.into_iter().filter(|r| r["method"] == "GET").collect();
    assert_eq!(gets.last().unwrap()["start"].as_u64().unwrap(), kept, "its bytes were not fetched again");
}

#[tokio::test]
async fn the_same_model_twice_in_one_process_is_refused_as_busy_not_fetched_twice() {
    let Setup { fake, cache: _cache, hub, commit, entry } = on_a_slow_link(0.005).await;
    let queue = queue();
    let started = tokio::sync::Notify::new();
    let first = queue.download(&hub, SMOL_REPO, &commit, &entry, telling_when_bytes_arrive(&started));
    let second = async {
        started.notified().await;
        let again = queue.download(&hub, SMOL_REPO, &commit, &entry, |_| {}).await;
        assert!(matches!(again, Err(HubError::AlreadyDownloading(_))), "{again:?}");
        fake.faults(json!([])).await;
    };
    let (first, ()) = tokio::join!(first, second);
    first.unwrap();
}
