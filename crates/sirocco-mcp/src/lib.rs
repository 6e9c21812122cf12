//! `sirocco-mcp`: the tools of MCP servers, for the chat (the app's and `sirocco chat`'s).
//!
//! Servers are configured as LM Studio and Cursor write `mcp.json` ([`McpConfig`]): a command
//! run over stdio, or a Streamable HTTP URL with headers. [`McpServer::connect`] starts one
//! through the official Rust SDK (`rmcp`), lists its tools and calls them; every step has a
//! time limit, a result is turned into text for the model and cut to a size the context can
//! hold, with a note saying so ([`ToolOutput`]). A server that crashes, hangs or answers
//! garbage gives an [`McpError`] that says what happened (with the end of its stderr); the
//! caller goes on. [`McpPool`] keeps servers running between uses (the app's chat starts a
//! server once, not once per answer).
//!
//! Nothing here knows about Tauri, the store or the engine.

mod config;
mod error;
mod output;
mod pool;
mod server;

pub use config::{is_secret_env, secret_account, McpConfig, ServerEntry, SECRET_PLACEHOLDER};
pub use error::McpError;
pub use output::{ToolOutput, MAX_RESULT_CHARS};
pub use pool::McpPool;
pub use server::{McpLimits, McpServer, McpTool};
