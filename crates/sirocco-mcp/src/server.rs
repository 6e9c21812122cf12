//! One running MCP server: started (a child process over stdio with a cleared environment, see
//! [`crate::server_environment`], or a Streamable HTTP session), its tools listed, calls made
//! with a time limit. The end of a stdio server's stderr is kept and quoted when it fails.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::AsyncReadExt;

use crate::{server_environment, McpError, ServerEntry, ToolOutput, MAX_RESULT_CHARS};

/// How long each step may take, and how much of a result is kept.
#[derive(Debug, Clone, Copy)]
pub struct McpLimits {
    /// Starting the server and listing its tools.
    pub start: Duration,
    /// One tool call.
    pub call: Duration,
    pub max_result_chars: usize,
}

impl Default for McpLimits {
    fn default() -> Self {
        Self { start: Duration::from_secs(30), call: Duration::from_secs(120), max_result_chars: MAX_RESULT_CHARS }
    }
}

/// A tool a server offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct McpTool {
    pub name: String,
    pub description: String,
    /// The JSON schema of its arguments.
    #[ts(type = "Record<string, unknown>")]
    pub input_schema: Value,
}

/// The last bytes a stdio server wrote to stderr.
const STDERR_TAIL: usize = 2000;

/// A connected server and its tools.
pub struct McpServer {
    name: String,
    client: RunningService<RoleClient, ()>,
    tools: Vec<McpTool>,
    stderr: Arc<Mutex<String>>,
    limits: McpLimits,
    /// A call found the connection gone (the process exited, the stream ended).
    gone: std::sync::atomic::AtomicBool,
}

impl McpServer {
    /// Starts `entry` (named `name` in messages) and lists its tools.
    pub async fn connect(name: &str, entry: &ServerEntry, limits: McpLimits) -> Result<Self, McpError> {
        let stderr = Arc::new(Mutex::new(String::new()));
        let secs = limits.start.as_secs();
        let timeout = |what: &str| McpError::Timeout { server: name.to_owned(), what: what.to_owned(), secs };
        let started = match entry {
            ServerEntry::Stdio { command, args, env, cwd } => {
                let mut cmd = tokio::process::Command::new(command);
                // Not Sirocco's environment (its tokens): the desktop's few variables and the
                // entry's own.
                cmd.args(args).env_clear().envs(server_environment(std::env::vars_os(), env)).kill_on_drop(true);
                if let Some(cwd) = cwd {
                    cmd.current_dir(cwd);
                }
                // Sirocco's own files are private (umask 077); the files a user's tool writes
                // are the user's business: it gets the user's umask back.
                let umask = sirocco_folders::user_umask() as libc::mode_t;
                // SAFETY: umask is async-signal-safe and touches nothing but the child's mask.
                unsafe {
                    cmd.pre_exec(move || {
                        libc::umask(umask);
                        Ok(())
                    });
                }
                let (transport, err) = TokioChildProcess::builder(cmd)
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|source| McpError::Spawn { command: entry.describe(), source })?;
                if let Some(mut err) = err {
                    let tail = stderr.clone();
                    tokio::spawn(async move {
                        let mut buf = [0u8; 4096];
                        while let Ok(n) = err.read(&mut buf).await {
                            if n == 0 {
                                break;
                            }
                            let mut tail = tail.lock().expect("the stderr tail is never poisoned");
                            tail.push_str(&String::from_utf8_lossy(&buf[..n]));
                            if tail.len() > 2 * STDERR_TAIL {
                                let mut cut = tail.len() - STDERR_TAIL;
                                while !tail.is_char_boundary(cut) {
                                    cut += 1;
                                }
                                tail.drain(..cut);
                            }
                        }
                    });
                }
                tokio::time::timeout(limits.start, ().serve(transport)).await.map_err(|_| timeout("its start"))?
            }
            ServerEntry::Http { url, headers } => {
                let mut custom = HashMap::new();
                for (k, v) in headers {
                    let bad =
                        |what: &str| McpError::Config(format!("server `{name}`: header `{k}` is not a valid {what}"));
                    let key = http::HeaderName::try_from(k.as_str()).map_err(|_| bad("header name"))?;
                    let value = http::HeaderValue::try_from(v.as_str()).map_err(|_| bad("header value"))?;
                    custom.insert(key, value);
                }
                let mut config = StreamableHttpClientTransportConfig::with_uri(url.as_str());
                config.custom_headers = custom;
                let transport = StreamableHttpClientTransport::from_config(config);
                tokio::time::timeout(limits.start, ().serve(transport)).await.map_err(|_| timeout("its start"))?
            }
        };
        let client = started
            .map_err(|e| McpError::Connect { server: name.to_owned(), message: with_stderr(e.to_string(), &stderr) })?;
        let listed = tokio::time::timeout(limits.start, client.list_all_tools())
            .await
            .map_err(|_| timeout("the list of its tools"))?
            .map_err(|e| McpError::Connect { server: name.to_owned(), message: with_stderr(e.to_string(), &stderr) })?;
        let tools = listed
            .into_iter()
            .map(|t| McpTool {
                name: t.name.into_owned(),
                description: t.description.map(|d| d.into_owned()).unwrap_or_default(),
                input_schema: Value::Object((*t.input_schema).clone()),
            })
            .collect();
        Ok(Self { name: name.to_owned(), client, tools, stderr, limits, gone: Default::default() })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn tools(&self) -> &[McpTool] {
        &self.tools
    }

    /// Calls `tool` with `arguments` (a JSON object, or null for none). A result the server
    /// marks as an error is an `Ok` with `is_error` (the model reads why); a server that fails,
    /// goes away or does not answer in time is an `Err`.
    pub async fn call(&self, tool: &str, arguments: Value) -> Result<ToolOutput, McpError> {
        if !self.tools.iter().any(|t| t.name == tool) {
            return Err(McpError::NoSuchTool { server: self.name.clone(), tool: tool.to_owned() });
        }
        let arguments = match arguments {
            Value::Null => serde_json::Map::new(),
            Value::Object(map) => map,
            other => return Err(McpError::BadArguments { tool: tool.to_owned(), arguments: other.to_string() }),
        };
        let params = CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments);
        let result = tokio::time::timeout(self.limits.call, self.client.call_tool(params)).await.map_err(|_| {
            McpError::Timeout {
                server: self.name.clone(),
                what: format!("the call to {tool}"),
                secs: self.limits.call.as_secs(),
            }
        })?;
        if matches!(result, Err(rmcp::ServiceError::TransportClosed | rmcp::ServiceError::TransportSend(_))) {
            self.gone.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let result = result.map_err(|e| McpError::Call {
            server: self.name.clone(),
            tool: tool.to_owned(),
            message: with_stderr(e.to_string(), &self.stderr),
        })?;
        Ok(ToolOutput::from_result(result, self.limits.max_result_chars))
    }

    /// The session is over: the server exited, its connection dropped, or it was closed.
    pub fn is_closed(&self) -> bool {
        self.gone.load(std::sync::atomic::Ordering::Relaxed)
            || self.client.is_closed()
            || self.client.peer().is_transport_closed()
    }

    /// Ends the session (a stdio server's process is stopped).
    pub async fn close(self) {
        let _ = self.client.cancel().await;
    }
}

/// `message`, with the end of the server's stderr when it wrote any.
fn with_stderr(message: String, stderr: &Mutex<String>) -> String {
    let tail = stderr.lock().expect("the stderr tail is never poisoned");
    let tail = tail.trim();
    if tail.is_empty() {
        return message;
    }
    let start = tail.len().saturating_sub(STDERR_TAIL);
    let start = (start..tail.len()).find(|&i| tail.is_char_boundary(i)).unwrap_or(0);
    format!("{message} (its last output: {})", &tail[start..])
}
