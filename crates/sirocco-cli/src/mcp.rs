//! `sirocco mcp list`: each configured MCP server's status and tools (the app's `mcp.json` by
//! default, or `--config`). Servers are started together, each within its time limit; one
//! that fails is listed with why, and the others still are.

use std::path::{Path, PathBuf};

use sirocco_mcp::{McpConfig, McpError, McpLimits, McpServer, ServerEntry};

/// The app's MCP configuration (the Tools page writes it).
pub fn default_config() -> PathBuf {
    sirocco_folders::AppFolders::resolve().mcp_config()
}

pub async fn list(config: Option<PathBuf>) -> Result<(), String> {
    let path = config.unwrap_or_else(default_config);
    let config = load(&path)?;
    if config.servers.is_empty() {
        println!("No MCP servers in {} (add them on Sirocco's Tools page, or pass --config mcp.json).", path.display());
        return Ok(());
    }
    let started = futures_util::future::join_all(config.enabled().map(|(name, entry)| connect(name, entry))).await;
    let width = config.servers.keys().map(|n| n.chars().count()).max().unwrap_or(0);
    for name in &config.disabled {
        if let Some(entry) = config.servers.get(name) {
            println!("{name:width$}  off     ({})", entry.describe());
        }
    }
    for ((name, entry), result) in config.enabled().zip(started) {
        match result {
            Ok(server) => {
                let count = server.tools().len();
                println!(
                    "{name:width$}  ready   {count} tool{}  ({})",
                    if count == 1 { "" } else { "s" },
                    entry.describe()
                );
                let tool_width = server.tools().iter().map(|t| t.name.chars().count()).max().unwrap_or(0);
                for tool in server.tools() {
                    let description = tool.description.lines().next().unwrap_or("");
                    println!("  {:tool_width$}  {description}", tool.name);
                }
                server.close().await;
            }
            Err(e) => println!("{name:width$}  failed  {e}"),
        }
    }
    Ok(())
}

/// The configuration at `path`, or why it cannot be read.
pub fn load(path: &Path) -> Result<McpConfig, String> {
    McpConfig::load(path).map_err(|e| e.to_string())
}

/// Starts the server `name` as `entry` says, its secrets read from the system keyring (where
/// the app keeps them; the file holds placeholders).
pub async fn connect(name: &str, entry: &ServerEntry) -> Result<McpServer, McpError> {
    let entry = sirocco_runtime::secrets::mcp_entry_with_secrets(name, entry).await?;
    McpServer::connect(name, &entry, McpLimits::default()).await
}
