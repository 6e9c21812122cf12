//! Downloads into the Hugging Face cache with resume, retries and sha256 verification, built
//! around `hf-hub`'s ranged `download_file_stream` (its own cached download writes the whole
//! file in one pass, cannot resume and does not verify).
//!
//! Per file: bytes go to `blobs/<sha256>.incomplete`; a new attempt (after a dropped
//! connection, a truncated body, a server error, a pause or an app restart) asks only for the
//! bytes after what is on disk; the hash covers the bytes on disk plus the new ones; only a file
//! whose sha256 matches the Hub's is renamed to `blobs/<sha256>` and linked into `snapshots/`.
//!
//! Each blob is fetched under an OS lock on `huggingface_hub`'s own lock file
//! ([`crate::cache::lock_path`]), so the app, `sirocco pull` and Python's hub never write one
//! `.incomplete` file together: a second waits (`Phase::Waiting`), then links the finished blob.
//! A wrong hash is fetched again once, then the partial file is deleted.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, Write};
use std::sync::Arc;

use crate::cache;
use crate::gguf_files::RemoteFile;
use crate::{Hub, HubError, Result};

/// Files of one repository at one commit, downloaded as one item (e.g. all parts of a split
/// model).
#[derive(Debug, Clone)]
pub struct DownloadRequest {
    pub repo: String,
    /// The commit (not a branch), so every file comes from the same revision.
    pub commit: String,
    pub files: Vec<RemoteFile>,
}

#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(rename = "DownloadPhase")]
pub enum Phase {
    Downloading,
    /// Waiting `delay_ms` before attempt `attempt` after an error.
    Retrying {
        attempt: u32,
        delay_ms: u64,
        error: String,
    },
    /// Another download of this file (another window of the app, a terminal's `sirocco pull`,
    /// Python's hub) is fetching it: this one waits, then uses what it fetched.
    Waiting,
    Verifying,
    Done,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct DownloadProgress {
    pub file: String,
    /// Bytes on disk for the whole item (all files), and its total.
    pub downloaded: u64,
    pub total: u64,
    pub bytes_per_second: f64,
    pub eta_seconds: Option<f64>,
    pub phase: Phase,
}

#[derive(Debug, Clone)]
pub struct DownloadOptions {
    /// Consecutive failed attempts (without new bytes) before giving up.
    pub max_attempts: u32,
    /// First retry delay; doubles per consecutive failure.
    pub base_delay: Duration,
    /// Progress is reported at most this often (plus phase changes).
    pub progress_interval: Duration,
    /// Space left free on the disk after the download.
    pub disk_margin: u64,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            progress_interval: Duration::from_millis(100),
            disk_margin: 256 << 20,
        }
    }
}

/// Bytes already on disk for `file` (verified blob or partial download).
fn bytes_on_disk(hub: &Hub, repo: &str, file: &RemoteFile, sha: &str) -> u64 {
    let blob = cache::blob_path(hub.cache_dir(), repo, sha);
    if std::fs::metadata(&blob).is_ok_and(|m| m.len() == file.size) {
        return file.size;
    }
    // A partial file longer than the file is garbage and starts over.
    std::fs::metadata(cache::incomplete_path(hub.cache_dir(), repo, sha)).map_or(0, |m| {
        if m.len() > file.size {
            0
        } else {
            m.len()
        }
    })
}

/// Bytes on disk for all of `files` (verified or partial); a file without a usable sha256
/// counts none.
pub(crate) fn bytes_on_disk_of(hub: &Hub, repo: &str, files: &[RemoteFile]) -> u64 {
    files.iter().filter_map(|f| Some(bytes_on_disk(hub, repo, f, sha_of(f).ok()?))).sum()
}

fn sha_of(file: &RemoteFile) -> Result<&str> {
    let sha = file.sha256.as_deref().ok_or_else(|| {
        HubError::Protocol(format!("{} has no sha256 on the Hub: refusing to download it unverified", file.path))
    })?;
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(HubError::Protocol(format!("{} has a malformed sha256 {sha:?}", file.path)));
    }
    Ok(sha)
}

/// Downloads every file of `request`, returning their snapshot paths (part 1 first).
/// Setting `cancel` stops within one network chunk and keeps what was fetched (a pause);
/// [`discard`] removes it (a cancel).
pub async fn download(
    hub: &Hub,
    request: &DownloadRequest,
    options: &DownloadOptions,
    mut progress: impl FnMut(&DownloadProgress),
    cancel: &Arc<AtomicBool>,
) -> Result<Vec<PathBuf>> {
    let blobs = cache::repo_folder(hub.cache_dir(), &request.repo).join("blobs");
    tokio::fs::create_dir_all(&blobs).await?;
    let total: u64 = request.files.iter().map(|f| f.size).sum();
    let mut on_disk = 0;
    for file in &request.files {
        on_disk += bytes_on_disk(hub, &request.repo, file, sha_of(file)?);
    }
    let needed = total - on_disk;
    let available = cache::free_bytes(&blobs)?;
    if needed + options.disk_margin > available {
        return Err(HubError::DiskFull { folder: blobs, needed: needed + options.disk_margin, available });
    }

    let mut meter = Meter::new(total, on_disk, options.progress_interval);
    let mut paths = Vec::new();
    for file in &request.files {
        let path = download_file(hub, request, file, options, &mut meter, &mut progress, cancel).await?;
        paths.push(path);
    }
    progress(&meter.report(request.files.last().map_or("", |f| &f.path), Phase::Done));
    Ok(paths)
}

/// Removes the partial downloads of `request` (verified files stay), each once no download
/// of it runs (a paused one stops within a chunk). Blocking: call it off the async runtime.
pub fn discard(hub: &Hub, request: &DownloadRequest) -> Result<()> {
    for file in &request.files {
        let sha = sha_of(file)?;
        let lock = open_lock(&cache::lock_path(hub.cache_dir(), &request.repo, sha))?;
        lock.lock()?;
        let partial = cache::incomplete_path(hub.cache_dir(), &request.repo, sha);
        match std::fs::remove_file(&partial) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The exclusive right to fetch one blob, across processes (an OS file lock: it goes when the
/// process does, however it ends).
struct FetchLock(#[allow(dead_code)] std::fs::File);

/// How often a waiting download looks whether the other one is done.
const LOCK_POLL: Duration = Duration::from_millis(100);

impl FetchLock {
    /// Takes the lock at `path`, calling `waiting` once if another holder makes it wait.
    /// Setting `cancel` stops the wait.
    async fn take(path: &std::path::Path, cancel: &AtomicBool, mut waiting: impl FnMut()) -> Result<Self> {
        let file = open_lock(path)?;
        let mut told = false;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Self(file)),
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
            }
            if !told {
                tracing::info!(lock = %path.display(), "another download of this file is running; waiting for it");
                waiting();
                told = true;
            }
            if cancel.load(Ordering::Relaxed) {
                return Err(HubError::Cancelled);
            }
            tokio::time::sleep(LOCK_POLL).await;
        }
    }
}

fn open_lock(path: &std::path::Path) -> Result<std::fs::File> {
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)?;
    }
    Ok(std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path)?)
}

/// Speed (over a sliding window) and ETA for progress reports.
struct Meter {
    total: u64,
    done: u64,
    window: std::collections::VecDeque<(Instant, u64)>,
    interval: Duration,
    last_report: Option<Instant>,
}

impl Meter {
    fn new(total: u64, done: u64, interval: Duration) -> Self {
        Self { total, done, window: Default::default(), interval, last_report: None }
    }

    fn add(&mut self, n: u64) {
        self.done += n;
        let now = Instant::now();
        self.window.push_back((now, self.done));
        while self.window.len() > 2 && now - self.window[0].0 > Duration::from_secs(3) {
            self.window.pop_front();
        }
    }

    fn due(&mut self) -> bool {
        let now = Instant::now();
        if self.last_report.is_none_or(|t| now - t >= self.interval) {
            self.last_report = Some(now);
            return true;
        }
        false
    }

    fn report(&self, file: &str, phase: Phase) -> DownloadProgress {
        let speed = match (self.window.front(), self.window.back()) {
            (Some(a), Some(b)) if b.0 > a.0 => (b.1 - a.1) as f64 / (b.0 - a.0).as_secs_f64(),
            _ => 0.0,
        };
        DownloadProgress {
            file: file.to_owned(),
            downloaded: self.done,
            total: self.total,
            bytes_per_second: speed,
            eta_seconds: (speed > 0.0).then(|| (self.total - self.done) as f64 / speed),
            phase,
        }
    }
}

/// The partial file and the hash of the bytes in it.
struct Partial {
    file: std::fs::File,
    len: u64,
    hasher: Sha256,
}

impl Partial {
    /// Opens (or creates) the partial download and hashes what it already holds (on a
    /// blocking thread: a resumed multi-gigabyte file takes a while).
    async fn open(path: &std::path::Path, size: u64, cancel: &Arc<AtomicBool>) -> Result<Self> {
        let (path, cancel) = (path.to_path_buf(), cancel.clone());
        tokio::task::spawn_blocking(move || -> Result<Self> {
            let mut file =
                std::fs::OpenOptions::new().create(true).truncate(false).read(true).write(true).open(&path)?;
            let mut len = file.metadata()?.len();
            if len > size {
                file.set_len(0)?;
                len = 0;
            }
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 1 << 20];
            let mut read = 0;
            while read < len {
                if cancel.load(Ordering::Relaxed) {
                    return Err(HubError::Cancelled);
                }
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                let n = n.min((len - read) as usize);
                hasher.update(&buf[..n]);
                read += n as u64;
            }
            file.seek(std::io::SeekFrom::Start(len))?;
            Ok(Self { file, len, hasher })
        })
        .await
        .map_err(|e| HubError::Io(e.to_string()))?
    }

    fn restart(&mut self) -> Result<()> {
        self.file.set_len(0)?;
        self.file.seek(std::io::SeekFrom::Start(0))?;
        self.len = 0;
        self.hasher = Sha256::new();
        Ok(())
    }
}

/// Appends chunks to the partial file on one thread and hashes them on another, so the
/// network, the disk and the hash overlap.
struct Writer {
    chunks: std::sync::mpsc::SyncSender<bytes::Bytes>,
    done: tokio::sync::oneshot::Receiver<(Partial, std::io::Result<()>)>,
}

impl Writer {
    fn start(partial: Partial) -> Self {
        let (chunks, rx) = std::sync::mpsc::sync_channel::<bytes::Bytes>(64);
        let (to_hasher, hasher_rx) = std::sync::mpsc::sync_channel::<bytes::Bytes>(256);
        let (tx, done) = tokio::sync::oneshot::channel();
        let Partial { file, mut len, mut hasher } = partial;
        let hashing = std::thread::Builder::new()
            .name("sirocco-download-hash".into())
            .spawn(move || {
                for chunk in hasher_rx {
                    hasher.update(&chunk);
                }
                hasher
            })
            .expect("spawn the download hasher");
        std::thread::Builder::new()
            .name("sirocco-download-writer".into())
            .spawn(move || {
                let mut result = Ok(());
                {
                    let mut out = std::io::BufWriter::with_capacity(4 << 20, &file);
                    for chunk in rx {
                        if let Err(e) = out.write_all(&chunk) {
                            result = Err(e);
                            break;
                        }
                        len += chunk.len() as u64;
                        // Bytes are reference-counted: the hasher shares the buffer.
                        if to_hasher.send(chunk).is_err() {
                            break;
                        }
                    }
                    if result.is_ok() {
                        result = out.flush();
                    }
                }
                drop(to_hasher);
                let hasher = hashing.join().expect("the hasher does not panic");
                // Hashed bytes are exactly the written ones: a failed write is not hashed.
                let _ = tx.send((Partial { file, len, hasher }, result));
            })
            .expect("spawn the download writer");
        Self { chunks, done }
    }

    /// Hands a chunk to the writer; `false` if it stopped (a write failed).
    async fn write(&self, chunk: bytes::Bytes) -> bool {
        match self.chunks.try_send(chunk) {
            Ok(()) => true,
            Err(std::sync::mpsc::TrySendError::Full(chunk)) => {
                let chunks = self.chunks.clone();
                tokio::task::spawn_blocking(move || chunks.send(chunk).is_ok()).await.unwrap_or(false)
            }
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => false,
        }
    }

    async fn finish(self) -> Result<Partial> {
        drop(self.chunks);
        let (partial, result) = self.done.await.map_err(|_| HubError::Io("the download writer stopped".into()))?;
        result?;
        Ok(partial)
    }
}

async fn download_file(
    hub: &Hub,
    request: &DownloadRequest,
    file: &RemoteFile,
    options: &DownloadOptions,
    meter: &mut Meter,
    progress: &mut impl FnMut(&DownloadProgress),
    cancel: &Arc<AtomicBool>,
) -> Result<PathBuf> {
    let repo_id = &request.repo;
    let sha = sha_of(file)?;
    let cache_dir = hub.cache_dir();
    let blob = cache::blob_path(cache_dir, repo_id, sha);
    let _fetching = FetchLock::take(&cache::lock_path(cache_dir, repo_id, sha), cancel, || {
        progress(&meter.report(&file.path, Phase::Waiting))
    })
    .await?;
    if tokio::fs::metadata(&blob).await.is_ok_and(|m| m.len() == file.size) {
        return cache::link_snapshot(cache_dir, repo_id, &request.commit, &file.path, sha);
    }
    let partial_path = cache::incomplete_path(cache_dir, repo_id, sha);
    let mut partial = Partial::open(&partial_path, file.size, cancel).await?;
    let repo = hub.repo(repo_id)?;
    let mut failures = 0u32;
    let mut rehashed = false;
    loop {
        if partial.len == file.size {
            progress(&meter.report(&file.path, Phase::Verifying));
            let actual = hex::encode(std::mem::take(&mut partial.hasher).finalize());
            if actual == sha {
                break;
            }
            // Corrupt bytes: start this file over once, then give up with nothing left behind.
            meter.done -= partial.len;
            partial.restart()?;
            if rehashed {
                drop(partial);
                let _ = tokio::fs::remove_file(&partial_path).await;
                return Err(HubError::ChecksumMismatch { path: file.path.clone(), expected: sha.to_owned(), actual });
            }
            rehashed = true;
            continue;
        }
        if cancel.load(Ordering::Relaxed) {
            return Err(HubError::Cancelled);
        }
        let before = partial.len;
        let (back, attempt) = fetch_range(&repo, request, file, partial, meter, progress, cancel).await;
        partial = back?;
        if cancel.load(Ordering::Relaxed) && partial.len < file.size {
            return Err(HubError::Cancelled);
        }
        let error = match attempt {
            Ok(()) if partial.len == file.size => continue,
            Ok(()) => format!("the connection ended at byte {} of {}", partial.len, file.size),
            Err(Fatal(e)) => return Err(e),
            Err(Retry(e)) => e,
        };
        failures = if partial.len > before { 1 } else { failures + 1 };
        if failures >= options.max_attempts {
            return Err(HubError::RetriesExhausted { path: file.path.clone(), attempts: failures, last_error: error });
        }
        let delay = options.base_delay * 2u32.saturating_pow(failures - 1).min(32);
        tracing::warn!(file = %file.path, %error, ?delay, "download interrupted; retrying");
        progress(
            &meter.report(
                &file.path,
                Phase::Retrying { attempt: failures + 1, delay_ms: delay.as_millis() as u64, error },
            ),
        );
        // Back off, waking early if cancelled.
        let until = Instant::now() + delay;
        while Instant::now() < until && !cancel.load(Ordering::Relaxed) {
            tokio::time::sleep((until - Instant::now()).min(Duration::from_millis(50))).await;
        }
    }
    drop(partial);
    // No fsync (like curl and huggingface_hub): an app crash or kill loses nothing that the
    // page cache holds; waiting for the disk would cost as much as the download itself here.
    tokio::fs::rename(&partial_path, &blob).await?;
    cache::link_snapshot(cache_dir, repo_id, &request.commit, &file.path, sha)
}

enum Outcome {
    Retry(String),
    Fatal(HubError),
}
use Outcome::{Fatal, Retry};

/// One ranged request for the bytes after what is on disk, appended as they arrive.
/// Gives the partial file back with what was written, and how the request ended.
async fn fetch_range(
    repo: &hf_hub::repository::HFRepository<hf_hub::repository::RepoTypeModel>,
    request: &DownloadRequest,
    file: &RemoteFile,
    mut partial: Partial,
    meter: &mut Meter,
    progress: &mut impl FnMut(&DownloadProgress),
    cancel: &AtomicBool,
) -> (Result<Partial>, std::result::Result<(), Outcome>) {
    let range = partial.len..file.size;
    let sent = repo
        .download_file_stream()
        .filename(file.path.clone())
        .revision(request.commit.clone())
        .range(range.clone())
        .send()
        .await;
    let (length, mut stream) = match sent {
        Ok(ok) => ok,
        Err(e) => {
            let mapped = HubError::from_hf(e, &request.repo, Some(&file.path));
            let outcome = match mapped {
                HubError::Network(text) => Retry(text),
                other => Fatal(other),
            };
            return (Ok(partial), Err(outcome));
        }
    };
    match length {
        // The server ignored the range and sends the whole file: take it from the start.
        Some(n) if n == file.size && range.start > 0 => {
            meter.done -= partial.len;
            if let Err(e) = partial.restart() {
                return (Err(e), Ok(()));
            }
        }
        Some(n) if n != range.end - range.start => {
            let announced = format!("asked for {} bytes, the server announced {n}", range.end - range.start);
            return (Ok(partial), Err(Retry(announced)));
        }
        _ => {}
    }
    let start = partial.len;
    let writer = Writer::start(partial);
    let mut received = 0u64;
    let mut outcome = Ok(());
    let mut too_long = false;
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                outcome = Err(Retry(e.to_string()));
                break;
            }
        };
        if start + received + chunk.len() as u64 > file.size {
            too_long = true;
            break;
        }
        received += chunk.len() as u64;
        meter.add(chunk.len() as u64);
        if !writer.write(chunk).await {
            break; // the writer failed: its error comes back from finish()
        }
        if meter.due() {
            progress(&meter.report(&file.path, Phase::Downloading));
        }
        if cancel.load(Ordering::Relaxed) {
            break;
        }
    }
    let mut partial = match writer.finish().await {
        Ok(p) => p,
        Err(e) => return (Err(e), Ok(())),
    };
    if too_long {
        // More bytes than the file has: nothing here can be trusted.
        meter.done -= partial.len;
        return match partial.restart() {
            Ok(()) => (Ok(partial), Err(Retry("the server sent more bytes than the file has".into()))),
            Err(e) => (Err(e), Ok(())),
        };
    }
    (Ok(partial), outcome)
}
