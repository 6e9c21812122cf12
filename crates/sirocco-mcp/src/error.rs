//! What can go wrong with a server, said so a user can act on it.

#[derive(Debug, thiserror::Error)]
pub enum McpError {
    #[error("mcp.json: {0}")]
    Config(String),
    #[error("could not start `{command}`: {source}")]
    Spawn { command: String, source: std::io::Error },
    #[error("{server} did not start: {message}")]
    Connect { server: String, message: String },
    #[error("{server} did not answer {what} within {secs} s")]
    Timeout { server: String, what: String, secs: u64 },
    #[error("{server} has no tool named `{tool}`")]
    NoSuchTool { server: String, tool: String },
    #[error("the arguments for {tool} are not a JSON object: {arguments}")]
    BadArguments { tool: String, arguments: String },
    #[error("{server} failed the call to {tool}: {message}")]
    Call { server: String, tool: String, message: String },
}
