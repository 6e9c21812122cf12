//! `sirocco-hub`: the Hugging Face Hub through `hf-hub`.
//!
//! - [`client`] builds the Hub client (endpoint, token, cache folder) and searches repositories.
//! - [`credentials`] keeps the access token in the operating system's keyring.
//! - [`gguf_files`] groups a repository's GGUF files by quantization, split parts as one entry.
//! - [`remote_header`] reads a remote GGUF's header with range requests, for the memory planner.
//! - [`library`] lists every local model (HF cache, folders, LM Studio, Ollama) without copying.
//! - [`download`] downloads files into the Hugging Face cache layout with resume, retries,
//!   a free-disk check and sha256 verification; [`cache`] knows that layout.
//! - [`queue`] owns the download queue (persisted in the cache, shared by the app and
//!   `sirocco pull`): pause, cancel and resume without asking the Hub again.
//!
//! Nothing here knows about Tauri or any UI.

pub mod cache;
pub mod client;
pub mod credentials;
pub mod download;
mod error;
pub mod gguf_files;
pub mod library;
pub mod queue;
pub mod remote_header;

pub use client::{carries_secrets, Account, Hub, HubConfig, RepoSummary, SearchQuery, SortBy};
pub use download::{DownloadProgress, DownloadRequest};
pub use error::{HubError, Result};
pub use gguf_files::{GgufEntry, RemoteFile};
pub use queue::{DownloadQueue, QueuedDownload};
