//! The download queue: which models are being fetched, paused or failed, owned here rather than
//! by a page, so the app and `sirocco pull` (and two windows, two terminals) see one queue.
//!
//! The queue is a JSON file in the Hugging Face cache (`.sirocco/downloads.json`), read and
//! rewritten whole under an OS lock (`.sirocco/downloads.lock`) and replaced by rename, so a
//! process killed mid-write leaves the old queue. Each entry keeps what the Hub said of its files
//! (sizes and sha256s), so pausing, cancelling, listing and resuming never ask the Hub again:
//! the bytes themselves are what needs the network. The bytes live where [`crate::download`]
//! puts them (`blobs/<sha256>.incomplete`); the queue never duplicates them, it reads their size.
//!
//! A stop flag per running download is the one thing held in memory ([`DownloadQueue`]); it is
//! per process, like the download it stops. An entry left `downloading` by a process that died
//! is resumed by whichever process resumes it next, and the per-file fetch lock makes a second
//! process wait for a live first one instead of fetching the same bytes twice.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::download::{self, DownloadOptions, DownloadProgress, DownloadRequest};
use crate::gguf_files::GgufEntry;
use crate::{Hub, HubError, Result};

/// Where a queued download stands. A finished download leaves the queue (the library lists it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(rename = "QueuedState")]
pub enum State {
    /// Running, or wanted running: a process that died mid-download left it so, and the next
    /// one resumes it.
    Downloading,
    Paused,
    Failed {
        message: String,
    },
}

/// One model in the queue: all its parts, as one item.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct QueuedDownload {
    /// `repo/name`: how the queue's commands name the item.
    pub key: String,
    pub repo: String,
    /// The commit every part comes from.
    pub commit: String,
    pub entry: GgufEntry,
    pub state: State,
    /// Bytes on disk now, over all parts: read from the cache when listed (what the queue file
    /// holds there is ignored).
    #[serde(skip_deserializing, default)]
    pub downloaded: u64,
}

/// The key of `entry` of `repo` in the queue.
pub fn key_of(repo: &str, entry_name: &str) -> String {
    format!("{repo}/{entry_name}")
}

/// The queue and this process's running downloads. Cheap to share (`Arc`); the Hub is passed
/// to each call because the app rebuilds its client when the endpoint, token or cache change.
#[derive(Default)]
pub struct DownloadQueue {
    running: Mutex<HashMap<String, Arc<AtomicBool>>>,
    options: DownloadOptions,
}

impl DownloadQueue {
    pub fn new(options: DownloadOptions) -> Self {
        Self { running: Mutex::default(), options }
    }

    /// Every queued download, with its bytes on disk. Reads files only.
    pub fn list(&self, hub: &Hub) -> Result<Vec<QueuedDownload>> {
        let mut items = QueueFile::at(hub.cache_dir()).read()?;
        for item in &mut items {
            item.downloaded = download::bytes_on_disk_of(hub, &item.repo, &item.entry.files());
        }
        Ok(items)
    }

    /// How many downloads this process is fetching now.
    pub fn running_count(&self) -> usize {
        self.running.lock().unwrap().len()
    }

    /// Whether this process is fetching `key` now.
    pub fn is_running(&self, key: &str) -> bool {
        self.running.lock().unwrap().contains_key(key)
    }

    /// Queues `entry` of `repo` at `commit` (or takes it up again) and downloads it, resuming
    /// from what is on disk. Resolves with the snapshot paths, part 1 first, once every part is
    /// verified; the item then leaves the queue. Paused, it stays `paused`; failed, it stays with
    /// the error; cancelled, it is gone.
    pub async fn download(
        &self,
        hub: &Hub,
        repo: &str,
        commit: &str,
        entry: &GgufEntry,
        progress: impl FnMut(&DownloadProgress),
    ) -> Result<Vec<PathBuf>> {
        let key = key_of(repo, &entry.name);
        let stop = Arc::new(AtomicBool::new(false));
        {
            let mut running = self.running.lock().unwrap();
            if running.contains_key(&key) {
                return Err(HubError::AlreadyDownloading(entry.name.clone()));
            }
            running.insert(key.clone(), stop.clone());
        }
        let _running = Running { queue: self, key: key.clone() };
        let queue = QueueFile::at(hub.cache_dir());
        let item = QueuedDownload {
            key: key.clone(),
            repo: repo.to_owned(),
            commit: commit.to_owned(),
            entry: entry.clone(),
            state: State::Downloading,
            downloaded: 0,
        };
        queue.update(|items| match items.iter_mut().find(|i| i.key == key) {
            Some(queued) => *queued = item,
            None => items.push(item),
        })?;

        let request = DownloadRequest { repo: repo.to_owned(), commit: commit.to_owned(), files: entry.files() };
        let result = download::download(hub, &request, &self.options, progress, &stop).await;
        // Only an item still queued is updated: a cancel has taken it out already.
        queue.update(|items| match &result {
            Ok(_) => items.retain(|i| i.key != key),
            Err(HubError::Cancelled) => set_state(items, &key, State::Paused),
            Err(e) => set_state(items, &key, State::Failed { message: e.to_string() }),
        })?;
        result
    }

    /// Resumes the queued `key` with the files the queue holds (no Hub request but the bytes).
    pub async fn resume(&self, hub: &Hub, key: &str, progress: impl FnMut(&DownloadProgress)) -> Result<Vec<PathBuf>> {
        let item = self.queued(hub, key)?;
        self.download(hub, &item.repo, &item.commit, &item.entry, progress).await
    }

    /// Pauses `key`: a running download stops within a network chunk and keeps its bytes.
    /// Works on an item another process runs only as far as the queue goes (that process
    /// stops it when it sees the flag it holds — its own Ctrl-C or pause).
    pub fn pause(&self, hub: &Hub, key: &str) -> Result<()> {
        if let Some(stop) = self.running.lock().unwrap().get(key) {
            stop.store(true, Ordering::Relaxed);
        }
        QueueFile::at(hub.cache_dir()).update(|items| set_state(items, key, State::Paused))
    }

    /// Cancels `key`: stops it, takes it out of the queue and deletes its partial files (each
    /// once no download of it runs). Blocking (it waits for the fetch locks): call it off the
    /// async runtime.
    pub fn cancel(&self, hub: &Hub, key: &str) -> Result<()> {
        if let Some(stop) = self.running.lock().unwrap().get(key) {
            stop.store(true, Ordering::Relaxed);
        }
        let queue = QueueFile::at(hub.cache_dir());
        let mut taken = None;
        queue.update(|items| {
            if let Some(at) = items.iter().position(|i| i.key == key) {
                taken = Some(items.remove(at));
            }
        })?;
        let item = taken.ok_or_else(|| not_queued(key))?;
        download::discard(hub, &DownloadRequest { repo: item.repo, commit: item.commit, files: item.entry.files() })
    }

    fn queued(&self, hub: &Hub, key: &str) -> Result<QueuedDownload> {
        QueueFile::at(hub.cache_dir()).read()?.into_iter().find(|i| i.key == key).ok_or_else(|| not_queued(key))
    }
}

fn not_queued(key: &str) -> HubError {
    HubError::NotQueued(key.to_owned())
}

fn set_state(items: &mut [QueuedDownload], key: &str, state: State) {
    if let Some(item) = items.iter_mut().find(|i| i.key == key) {
        item.state = state;
    }
}

/// Takes a download out of the running set however its future ends (finished, failed, dropped).
struct Running<'a> {
    queue: &'a DownloadQueue,
    key: String,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.queue.running.lock().unwrap().remove(&self.key);
    }
}

/// The queue's file and its lock.
struct QueueFile {
    path: PathBuf,
    lock: PathBuf,
}

impl QueueFile {
    fn at(cache: &Path) -> Self {
        let folder = cache.join(".sirocco");
        Self { path: folder.join("downloads.json"), lock: folder.join("downloads.lock") }
    }

    fn read(&self) -> Result<Vec<QueuedDownload>> {
        let _lock = self.locked()?;
        self.load()
    }

    /// Reads, changes and writes the queue while holding the lock, so two processes' changes
    /// never overwrite each other.
    fn update(&self, change: impl FnOnce(&mut Vec<QueuedDownload>)) -> Result<()> {
        let _lock = self.locked()?;
        let mut items = self.load()?;
        change(&mut items);
        let folder = self.path.parent().expect("the queue file is in a folder");
        let mut file = tempfile::NamedTempFile::new_in(folder)?;
        serde_json::to_writer_pretty(&mut file, &items).map_err(|e| HubError::Io(e.to_string()))?;
        file.as_file().sync_all()?;
        file.persist(&self.path).map_err(|e| HubError::from(e.error))?;
        Ok(())
    }

    fn locked(&self) -> Result<std::fs::File> {
        std::fs::create_dir_all(self.lock.parent().expect("the lock is in a folder"))?;
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&self.lock)?;
        file.lock()?;
        Ok(file)
    }

    /// The queue on disk; none yet is an empty one. A file that does not parse (written by
    /// something else, or damaged) is kept aside as `downloads.json.unreadable` and the queue
    /// starts empty: the partial downloads themselves stay in the cache and resume when the
    /// model is downloaded again.
    fn load(&self) -> Result<Vec<QueuedDownload>> {
        let text = match std::fs::read(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        match serde_json::from_slice(&text) {
            Ok(items) => Ok(items),
            Err(e) => {
                let aside = self.path.with_extension("json.unreadable");
                tracing::warn!(queue = %self.path.display(), error = %e, "the download queue does not parse; kept aside, starting empty");
                std::fs::rename(&self.path, &aside)?;
                Ok(Vec::new())
            }
        }
    }
}
