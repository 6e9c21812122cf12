//! The one error type the page sees: a kind it branches on and a message meant for a person.
//! Every crate's error enum maps to a kind here, and only here; the page never reads a message
//! to decide what happened.

use serde::Serialize;

/// What went wrong, as the page acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The user (or a newer request) stopped it: not a failure to show.
    Cancelled,
    /// The Hub wants an access token (a gated or private repository, or a token refused).
    NeedsToken,
    /// Something else is using what this needs; it may work later.
    Busy,
    /// The model does not fit beside the ones loaded.
    NoRoom,
    /// What was asked for does not exist (a repository, a file, a conversation, a model).
    NotFound,
    /// The request or the file is unusable as it is (a bad GGUF, a bad template, bad input).
    Invalid,
    /// The disk is full.
    DiskFull,
    /// Reading or writing a file or the database failed.
    Io,
    /// The Hub or another machine could not be reached or stopped answering.
    Network,
    /// Anything else.
    Other,
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct IpcError {
    pub kind: ErrorKind,
    pub message: String,
}

impl IpcError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    pub fn io(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Io, message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }
}

/// How a command's failure reads in the log (each command's span records it).
impl std::fmt::Display for IpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

/// A file the GGUF check refused: as the engine reports it.
impl From<sirocco_engine::gguf_file::GgufError> for IpcError {
    fn from(e: sirocco_engine::gguf_file::GgufError) -> Self {
        sirocco_engine::EngineError::from(e).into()
    }
}

impl From<sirocco_engine::EngineError> for IpcError {
    fn from(e: sirocco_engine::EngineError) -> Self {
        use sirocco_engine::EngineError as E;
        let kind = match &e {
            E::LoadCancelled | E::ModelUnloaded => ErrorKind::Cancelled,
            E::InvalidModelFile { .. }
            | E::LoadFailed { .. }
            | E::Template(_)
            | E::ContextOverflow { .. }
            | E::InvalidRequest(_)
            | E::InvalidImage(_)
            | E::NoVision
            | E::ProjectorFailed { .. } => ErrorKind::Invalid,
            E::Io { source, .. } if source.kind() == std::io::ErrorKind::StorageFull => ErrorKind::DiskFull,
            E::Io { .. } => ErrorKind::Io,
            E::NoModelLoaded => ErrorKind::NotFound,
            E::ContextBusy { .. } => ErrorKind::Busy,
            E::Worker(_) | E::ProcessStopped(_) => ErrorKind::Network,
            E::ContextFailed(_) | E::Decode(_) | E::Relayed(_) | E::EngineGone => ErrorKind::Other,
        };
        Self::new(kind, e.to_string())
    }
}

impl From<sirocco_hub::HubError> for IpcError {
    fn from(e: sirocco_hub::HubError) -> Self {
        use sirocco_hub::HubError as E;
        let kind = match &e {
            E::Cancelled => ErrorKind::Cancelled,
            E::Gated { .. } | E::Unauthorized(_) => ErrorKind::NeedsToken,
            E::RepoNotFound(_) | E::FileNotFound { .. } | E::NotQueued(_) => ErrorKind::NotFound,
            E::AlreadyDownloading(_) => ErrorKind::Busy,
            E::Network(_) | E::Protocol(_) | E::RetriesExhausted { .. } => ErrorKind::Network,
            E::DiskFull { .. } => ErrorKind::DiskFull,
            E::ChecksumMismatch { .. } | E::BadHeader(_) => ErrorKind::Invalid,
            E::Io(_) => ErrorKind::Io,
        };
        Self::new(kind, e.to_string())
    }
}

impl From<sirocco_store::StoreError> for IpcError {
    fn from(e: sirocco_store::StoreError) -> Self {
        use sirocco_store::StoreError as E;
        let kind = match &e {
            E::Database(_) | E::Migration(_) => ErrorKind::Io,
            E::NotFound(_) => ErrorKind::NotFound,
            E::Invalid(_) => ErrorKind::Invalid,
        };
        Self::new(kind, e.to_string())
    }
}

impl From<sirocco_store::CardError> for IpcError {
    fn from(e: sirocco_store::CardError) -> Self {
        Self::invalid(e.to_string())
    }
}

impl From<sirocco_chat::ChatError> for IpcError {
    fn from(e: sirocco_chat::ChatError) -> Self {
        use sirocco_chat::ChatError as E;
        match e {
            E::Store(e) => e.into(),
            E::Engine(e) => e.into(),
            E::Invalid(message) => Self::invalid(message),
        }
    }
}

impl From<sirocco_runtime::AnswerError> for IpcError {
    fn from(e: sirocco_runtime::AnswerError) -> Self {
        use sirocco_runtime::AnswerError as E;
        match e {
            E::Host(e) => e.into(),
            E::Engine(e) => e.into(),
            E::Chat(e) => e.into(),
        }
    }
}

impl From<sirocco_host::HostError> for IpcError {
    fn from(e: sirocco_host::HostError) -> Self {
        use sirocco_host::HostError as E;
        let kind = match &e {
            E::NotLoaded { .. } | E::NothingLoaded => ErrorKind::NotFound,
            E::NoRoom { .. } => ErrorKind::NoRoom,
            E::Busy { .. } => ErrorKind::Busy,
            E::LoadFailed { cancelled: true, .. } => ErrorKind::Cancelled,
            E::LoadFailed { .. } => ErrorKind::Invalid,
        };
        Self::new(kind, e.to_string())
    }
}

impl From<sirocco_server::ServerError> for IpcError {
    fn from(e: sirocco_server::ServerError) -> Self {
        use sirocco_server::ServerError as E;
        let kind = match &e {
            // Another program (or another Sirocco) has the port: it may be free later.
            E::Bind { source, .. } if source.kind() == std::io::ErrorKind::AddrInUse => ErrorKind::Busy,
            E::Bind { .. } => ErrorKind::Network,
            E::LanWithoutKey(_) | E::WeakKey(_) => ErrorKind::Invalid,
            E::Stopped(_) => ErrorKind::Other,
        };
        Self::new(kind, e.to_string())
    }
}

impl From<sirocco_mcp::McpError> for IpcError {
    fn from(e: sirocco_mcp::McpError) -> Self {
        use sirocco_mcp::McpError as E;
        let kind = match &e {
            E::Config(_) | E::BadArguments { .. } => ErrorKind::Invalid,
            E::Spawn { source, .. } if source.kind() == std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            E::Spawn { .. } => ErrorKind::Io,
            E::NoSuchTool { .. } => ErrorKind::NotFound,
            E::Connect { .. } | E::Timeout { .. } | E::Call { .. } => ErrorKind::Network,
        };
        Self::new(kind, e.to_string())
    }
}

impl From<sirocco_hub::credentials::CredentialError> for IpcError {
    fn from(e: sirocco_hub::credentials::CredentialError) -> Self {
        use sirocco_hub::credentials::CredentialError as E;
        let kind = match &e {
            E::Unavailable(_) => ErrorKind::NotFound,
            E::Refused(_) => ErrorKind::Other,
        };
        Self::new(kind, e.to_string())
    }
}

impl From<std::io::Error> for IpcError {
    fn from(e: std::io::Error) -> Self {
        let kind = match e.kind() {
            std::io::ErrorKind::StorageFull => ErrorKind::DiskFull,
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            _ => ErrorKind::Io,
        };
        Self::new(kind, e.to_string())
    }
}

/// A message of the app's own (a check in a command), with no crate's kind behind it.
impl From<&str> for IpcError {
    fn from(message: &str) -> Self {
        Self::new(ErrorKind::Other, message)
    }
}

impl From<String> for IpcError {
    fn from(message: String) -> Self {
        Self::new(ErrorKind::Other, message)
    }
}

pub type IpcResult<T> = Result<T, IpcError>;

/// Runs blocking work (file scans, hashing, keyring and D-Bus calls) off the async runtime; its
/// error keeps its kind, and a panic in it is an error, not a dead command.
pub async fn blocking<T, E>(work: impl FnOnce() -> Result<T, E> + Send + 'static) -> IpcResult<T>
where
    T: Send + 'static,
    E: Into<IpcError> + Send + 'static,
{
    match tauri::async_runtime::spawn_blocking(work).await {
        Ok(result) => result.map_err(Into::into),
        Err(e) => Err(IpcError::new(ErrorKind::Other, format!("the work stopped unexpectedly: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_crates_errors() {
        let gated: IpcError = sirocco_hub::HubError::Gated { repo: "a/b".into() }.into();
        assert_eq!(gated.kind, ErrorKind::NeedsToken);
        let cancelled: IpcError = sirocco_hub::HubError::Cancelled.into();
        assert_eq!(cancelled.kind, ErrorKind::Cancelled);
        let busy: IpcError = sirocco_host::HostError::Busy { id: "m".into(), busy: vec!["n".into()] }.into();
        assert_eq!(busy.kind, ErrorKind::Busy);
        let missing: IpcError = sirocco_chat::ChatError::Store(sirocco_store::StoreError::NotFound("x".into())).into();
        assert_eq!(missing.kind, ErrorKind::NotFound);
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let full: IpcError = sirocco_engine::EngineError::Io { path: "/m".into(), source: full }.into();
        assert_eq!(full.kind, ErrorKind::DiskFull);
        // A runtime's answer error keeps the kind of the error inside it.
        let busy: IpcError =
            sirocco_runtime::AnswerError::from(sirocco_host::HostError::Busy { id: "m".into(), busy: vec![] }).into();
        assert_eq!(busy.kind, ErrorKind::Busy);
    }

    #[test]
    fn a_port_in_use_is_busy() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let source = std::net::TcpListener::bind(addr).expect_err("the port is taken");
        let e: IpcError = sirocco_server::ServerError::Bind { addr, source }.into();
        assert_eq!(e.kind, ErrorKind::Busy, "{}", e.message);
        assert!(e.message.contains(&addr.to_string()), "{}", e.message);
        let lan: IpcError = sirocco_server::ServerError::LanWithoutKey(addr).into();
        assert_eq!(lan.kind, ErrorKind::Invalid);
    }

    #[test]
    fn the_page_reads_kind_and_message() {
        let e = IpcError::new(ErrorKind::NeedsToken, "a/b is gated");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({ "kind": "needs_token", "message": "a/b is gated" })
        );
    }
}
