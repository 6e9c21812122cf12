//! One file per endpoint; `request.rs` turns OpenAI's fields into an engine request.

pub mod chat_completions;
pub mod completions;
pub mod embeddings;
pub mod health;
pub mod models;
pub mod openapi;
pub mod router;
pub mod tokens;
mod request;
mod sse;
