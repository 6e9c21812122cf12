//! One file per endpoint; `request.rs` turns OpenAI's fields into an engine request.

pub mod chat_completions;
pub mod completions;
pub mod embeddings;
pub mod health;
pub mod models;
pub mod openapi;
mod request;
pub mod router;
mod sse;
pub mod tokens;
