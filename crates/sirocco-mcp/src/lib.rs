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
//! A stdio server starts with a cleared environment: the few variables a desktop program needs,
//! then what its entry declares ([`server_environment`]), never Sirocco's own tokens. Secrets in
//! an entry (headers, variables, arguments, URLs) are found here and moved to the system keyring
//! by the caller ([`ServerEntry::take_secrets`]). "Always allow" is bound to a server's identity
//! ([`fingerprint`], [`AllowedTool`]): a server replaced by another under the same name is asked
//! about again.
//!
//! Nothing here knows about Tauri, the store or the engine.

mod config;
mod environment;
mod error;
mod identity;
mod output;
mod pool;
mod secrets;
mod server;

pub use config::{McpConfig, ServerEntry};
pub use environment::{is_passed_through, server_environment};
pub use error::McpError;
pub use identity::{fingerprint, is_allowed, still_held, AllowedTool};
pub use output::{ToolOutput, MAX_RESULT_CHARS};
pub use pool::McpPool;
pub use secrets::{
    is_secret_env, is_secret_name, looks_like_token, secret_account, secrets_in_args, secrets_in_url, SecretSpan,
    SECRET_PLACEHOLDER,
};
pub use server::{McpLimits, McpServer, McpTool};
