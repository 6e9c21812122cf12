use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("repository {0} was not found on the Hub")]
    RepoNotFound(String),
    #[error("{repo} is gated: accept its terms on huggingface.co and set an access token")]
    Gated { repo: String },
    #[error("the Hub refused access (check the access token): {0}")]
    Unauthorized(String),
    #[error("file {path} was not found in {repo}")]
    FileNotFound { repo: String, path: String },
    #[error("could not reach the Hub: {0}")]
    Network(String),
    #[error("the Hub answered something unexpected: {0}")]
    Protocol(String),
    #[error(
        "not enough disk space in {}: {needed} bytes needed, {available} available",
        folder.display()
    )]
    DiskFull { folder: PathBuf, needed: u64, available: u64 },
    #[error("{path} failed verification: expected sha256 {expected}, got {actual}")]
    ChecksumMismatch { path: String, expected: String, actual: String },
    #[error("the download of {path} failed after {attempts} attempts: {last_error}")]
    RetriesExhausted { path: String, attempts: u32, last_error: String },
    #[error("download cancelled")]
    Cancelled,
    #[error("{0} is not in the download queue")]
    NotQueued(String),
    #[error("{0} is already downloading")]
    AlreadyDownloading(String),
    #[error("{0}")]
    Io(String),
    #[error("the file's header is not a usable GGUF: {0}")]
    BadHeader(String),
}

impl From<std::io::Error> for HubError {
    fn from(e: std::io::Error) -> Self {
        if e.raw_os_error() == Some(libc::ENOSPC) {
            return Self::Io(format!("the disk is full: {e}"));
        }
        Self::Io(e.to_string())
    }
}

impl HubError {
    /// Maps `hf-hub`'s errors for a repository (and file) to ours.
    pub(crate) fn from_hf(e: hf_hub::HFError, repo: &str, path: Option<&str>) -> Self {
        use hf_hub::HFError as E;
        let text = e.to_string();
        match e {
            E::RepoNotFound { .. } => Self::RepoNotFound(repo.to_owned()),
            E::EntryNotFound { .. } => {
                Self::FileNotFound { repo: repo.to_owned(), path: path.unwrap_or_default().to_owned() }
            }
            E::AuthRequired { .. } | E::Forbidden { .. } if text.contains("GatedRepo") || text.contains("gated") => {
                Self::Gated { repo: repo.to_owned() }
            }
            E::AuthRequired { .. } | E::Forbidden { .. } => Self::Unauthorized(text),
            _ => Self::Network(text),
        }
    }
}

pub type Result<T> = std::result::Result<T, HubError>;
