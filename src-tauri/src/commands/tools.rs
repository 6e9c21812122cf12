//! The Tools page: the MCP servers in the app's `mcp.json` (the file `sirocco mcp list` and
//! `sirocco chat --mcp` read), each checked (started, its tools listed, stopped), added,
//! removed, and another app's `mcp.json` imported.

use std::path::{Path, PathBuf};

use sirocco_mcp::{McpConfig, McpLimits, McpServer, McpTool, ServerEntry};
use tauri::AppHandle;

use crate::error::{IpcError, IpcResult};

/// A configured server as the page lists it.
#[derive(serde::Serialize, ts_rs::TS)]
pub struct McpServerView {
    name: String,
    entry: ServerEntry,
    /// What it runs or where it is (header values left out).
    description: String,
}

fn config_path(app: &AppHandle) -> PathBuf {
    crate::state::data_dir(app).join("mcp.json")
}

fn load(path: &Path) -> IpcResult<McpConfig> {
    Ok(McpConfig::load(path)?)
}

fn views(config: McpConfig) -> Vec<McpServerView> {
    config
        .servers
        .into_iter()
        .map(|(name, entry)| McpServerView { description: entry.describe(), name, entry })
        .collect()
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn mcp_servers(app: AppHandle) -> IpcResult<Vec<McpServerView>> {
    Ok(views(load(&config_path(&app))?))
}

/// Starts the server `name`, lists its tools and stops it: the page's status for it.
#[tauri::command]
#[tracing::instrument(skip_all, fields(name = %name), err(level = "warn", Display))]
pub async fn mcp_check(app: AppHandle, name: String) -> IpcResult<Vec<McpTool>> {
    let config = load(&config_path(&app))?;
    let entry = config.servers.get(&name).ok_or_else(|| IpcError::not_found(format!("no server named {name}")))?;
    let server = McpServer::connect(&name, entry, McpLimits::default()).await?;
    let tools = server.tools().to_vec();
    server.close().await;
    Ok(tools)
}

/// Adds (or replaces) the server `name`.
#[tauri::command]
#[tracing::instrument(skip_all, fields(name = %name), err(level = "warn", Display))]
pub async fn mcp_add(app: AppHandle, name: String, entry: ServerEntry) -> IpcResult<Vec<McpServerView>> {
    let name = name.trim().to_owned();
    if name.is_empty() {
        return Err(IpcError::invalid("give the server a name"));
    }
    // Checked as a file would be: a command or an http(s) URL.
    let text = serde_json::json!({ "mcpServers": { &name: entry } }).to_string();
    let checked = McpConfig::parse(&text)?;
    let path = config_path(&app);
    let mut config = load(&path)?;
    config.servers.extend(checked.servers);
    config.save(&path)?;
    Ok(views(config))
}

#[tauri::command]
#[tracing::instrument(skip_all, fields(name = %name), err(level = "warn", Display))]
pub async fn mcp_remove(app: AppHandle, name: String) -> IpcResult<Vec<McpServerView>> {
    let path = config_path(&app);
    let mut config = load(&path)?;
    config.servers.remove(&name);
    config.save(&path)?;
    Ok(views(config))
}

/// Adds the servers of another app's `mcp.json` (LM Studio, Cursor, Claude Desktop); a server
/// with a name already here is replaced. Nothing is added unless the whole file reads.
#[tauri::command]
#[tracing::instrument(skip_all, fields(file = ?file), err(level = "warn", Display))]
pub async fn mcp_import(app: AppHandle, file: PathBuf) -> IpcResult<Vec<McpServerView>> {
    let text = std::fs::read_to_string(&file)?;
    let imported = McpConfig::parse(&text).map_err(|e| {
        IpcError::invalid(format!("{}: {}", file.display(), e.to_string().trim_start_matches("mcp.json: ")))
    })?;
    if imported.servers.is_empty() {
        return Err(IpcError::invalid(format!("{} lists no servers", file.display())));
    }
    let path = config_path(&app);
    let mut config = load(&path)?;
    config.servers.extend(imported.servers);
    config.save(&path)?;
    Ok(views(config))
}
