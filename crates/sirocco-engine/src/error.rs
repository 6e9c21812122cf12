use std::path::PathBuf;

/// Everything that can go wrong in the engine, phrased for the person using the app.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{} is not a usable model file: {reason}", file_name(path))]
    InvalidModelFile { path: PathBuf, reason: String },
    #[error("could not read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("llama.cpp could not load {} (see the log for details)", file_name(path))]
    LoadFailed { path: PathBuf },
    #[error("loading was cancelled")]
    LoadCancelled,
    #[error("could not create an inference context: {0}")]
    ContextFailed(String),
    #[error("no model is loaded")]
    NoModelLoaded,
    #[error("the model was unloaded before the answer was finished")]
    ModelUnloaded,
    #[error("the chat template could not be rendered: {0}")]
    Template(String),
    #[error(
        "the conversation is {prompt_tokens} tokens long, which does not fit the context of \
         {context_size} tokens"
    )]
    ContextOverflow { prompt_tokens: usize, context_size: usize },
    #[error(
        "the conversation is {prompt_tokens} tokens long, and only {free} of the context's \
         {context_size} tokens are free while other requests run (try again when they finish, or \
         load the model with a longer context)"
    )]
    ContextBusy { prompt_tokens: usize, free: usize, context_size: usize },
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// An image that cannot be shown to the model: not an image, damaged, too large.
    #[error("{0}")]
    InvalidImage(String),
    /// The model has no vision projector loaded with it.
    #[error("this model does not see images (no vision projector is loaded with it)")]
    NoVision,
    #[error("the vision projector {} could not be used: {reason}", file_name(path))]
    ProjectorFailed { path: PathBuf, reason: String },
    #[error("generation failed: {0}")]
    Decode(String),
    /// Another machine's backend (ggml-rpc) could not be used.
    #[error("{0}")]
    Worker(String),
    /// What an engine process reported, as it phrased it.
    #[error("{0}")]
    Relayed(String),
    /// The engine process died (a worker lost mid-answer, a crash): why, for the user.
    #[error("{0}")]
    ProcessStopped(String),
    #[error("the engine thread has stopped")]
    EngineGone,
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// A plain value's check (`sirocco-types`) failed: the request is at fault.
impl From<sirocco_types::Invalid> for EngineError {
    fn from(invalid: sirocco_types::Invalid) -> Self {
        Self::InvalidRequest(invalid.0)
    }
}

/// A file the GGUF check refused (`sirocco-gguf`), as the engine reports it.
impl From<sirocco_gguf::GgufError> for EngineError {
    fn from(e: sirocco_gguf::GgufError) -> Self {
        match e {
            sirocco_gguf::GgufError::InvalidModelFile { path, reason } => Self::InvalidModelFile { path, reason },
            sirocco_gguf::GgufError::Io { path, source } => Self::Io { path, source },
        }
    }
}
