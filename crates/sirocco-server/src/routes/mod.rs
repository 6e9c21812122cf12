//! One file per endpoint (the Anthropic Messages API's two in `messages.rs`; Ollama's API in
//! `ollama/`); `request.rs` turns OpenAI's fields into an engine request.

pub mod chat_completions;
pub mod completions;
pub mod embeddings;
pub mod health;
pub mod messages;
pub mod models;
pub mod ollama;
pub mod openapi;
pub mod remote_images;
pub(crate) mod request;
pub mod responses;
pub mod router;
mod sse;
pub mod tokens;
