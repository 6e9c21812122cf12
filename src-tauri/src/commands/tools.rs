//! The Tools page and tools in the chat: the MCP servers in the app's `mcp.json` (the file
//! `sirocco mcp list` and `sirocco chat --mcp` read), each checked (started and its tools
//! listed; it keeps running for the chat), switched on or off, added, removed, another app's
//! `mcp.json` imported; the tools a turn offers, the user's answer to a call waiting for
//! approval, and the tools allowed always. Secrets (header values, variables named like keys
//! and tokens, keys in arguments and URLs: `sirocco_mcp::ServerEntry::take_secrets`) go to the
//! system keyring as they are added; the file keeps a placeholder.
//!
//! "Always allow" is bound to the server's identity (`sirocco_mcp::fingerprint`: its command and
//! arguments, or its URL), not its name: a server replaced or imported under the same name but
//! running something else is asked about again, and the allowances it no longer matches are
//! dropped as the file changes.
//!
//! Started servers live in `AppState::mcp` (an `McpPool`); a call waits in `AppState::approvals`
//! until `tool_approve` answers it; allowances are kept in `settings.json` (`allowedTools`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sirocco_chat::{Approval, McpTools};
use sirocco_mcp::{McpConfig, McpTool, ServerEntry};
use sirocco_runtime::secrets;
use tauri::{AppHandle, Manager, State};

use crate::error::{IpcError, IpcResult};
use crate::settings::{self, AllowedTool};
use crate::AppState;

/// A configured server as the page lists it.
#[derive(serde::Serialize, ts_rs::TS)]
pub struct McpServerView {
    name: String,
    entry: ServerEntry,
    /// What it runs or where it is (header values left out).
    description: String,
    /// Switched on: started for the chat and checked on the page.
    enabled: bool,
}

fn config_path(app: &AppHandle) -> PathBuf {
    app.state::<AppState>().folders.mcp_config()
}

fn load(path: &Path) -> IpcResult<McpConfig> {
    Ok(McpConfig::load(path)?)
}

fn views(config: McpConfig) -> Vec<McpServerView> {
    let disabled = config.disabled;
    config
        .servers
        .into_iter()
        .map(|(name, entry)| McpServerView {
            description: entry.describe(),
            enabled: !disabled.contains(&name),
            name,
            entry,
        })
        .collect()
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn mcp_servers(app: AppHandle) -> IpcResult<Vec<McpServerView>> {
    Ok(views(load(&config_path(&app))?))
}

/// The server `name`'s tools: started if it is not running (it keeps running for the chat).
#[tauri::command]
#[tracing::instrument(skip_all, fields(name = %name), err(level = "warn", Display))]
pub async fn mcp_check(app: AppHandle, state: State<'_, AppState>, name: String) -> IpcResult<Vec<McpTool>> {
    let config = load(&config_path(&app))?;
    let entry = config.servers.get(&name).ok_or_else(|| IpcError::not_found(format!("no server named {name}")))?;
    if config.disabled.contains(&name) {
        return Err(IpcError::invalid(format!("{name} is switched off")));
    }
    let entry = secrets::mcp_entry_with_secrets(&name, entry).await?;
    Ok(state.mcp.get(&name, &entry).await?.tools().to_vec())
}

/// Switches the server `name` on or off (off: stopped, and offered to no conversation).
#[tauri::command]
#[tracing::instrument(skip_all, fields(name = %name, enabled), err(level = "warn", Display))]
pub async fn mcp_set_enabled(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
    enabled: bool,
) -> IpcResult<Vec<McpServerView>> {
    let path = config_path(&app);
    let mut config = load(&path)?;
    if !config.servers.contains_key(&name) {
        return Err(IpcError::not_found(format!("no server named {name}")));
    }
    config.set_enabled(&name, enabled);
    config.save(&path)?;
    if !enabled {
        state.mcp.stop(&name).await;
    }
    Ok(views(config))
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
    let mut checked = McpConfig::parse(&text)?;
    secrets::keep_mcp_secrets(&mut checked, std::slice::from_ref(&name)).await?;
    let path = config_path(&app);
    let mut config = load(&path)?;
    let replaced = replace_servers(&mut config, checked.servers);
    config.save(&path)?;
    after_replacing(&app, &config, replaced).await;
    Ok(views(config))
}

/// Puts `servers` into `config`, replacing those of the same names: the entries replaced, by name.
fn replace_servers(
    config: &mut McpConfig,
    servers: impl IntoIterator<Item = (String, ServerEntry)>,
) -> Vec<(String, ServerEntry)> {
    servers
        .into_iter()
        .filter_map(|(name, entry)| config.servers.insert(name.clone(), entry).map(|old| (name, old)))
        .collect()
}

/// Once `config` (saved) has replaced the entries `replaced`: their secrets the new entries do
/// not use are forgotten, and the allowances of servers that are another program now dropped.
async fn after_replacing(app: &AppHandle, config: &McpConfig, replaced: Vec<(String, ServerEntry)>) {
    for (name, old) in replaced {
        if let Some(new) = config.servers.get(&name) {
            secrets::forget_replaced_mcp_secrets(&name, &old, new).await;
        }
    }
    drop_stale_allowances(app, config);
}

/// Keeps only the allowances that still hold for `config`'s servers (in memory and in the
/// settings): those of a server removed, replaced by another program, or saved without a
/// fingerprint by an older version go.
fn drop_stale_allowances(app: &AppHandle, config: &McpConfig) {
    let state = app.state::<AppState>();
    let mut list = state.allowed_tools.write().unwrap();
    let held = sirocco_mcp::still_held(&list, config);
    if held.len() != list.len() {
        *list = held;
        if let Err(e) = settings::save_allowed_tools(app, &list) {
            tracing::warn!("tools allowed always: {e}");
        }
    }
}

#[tauri::command]
#[tracing::instrument(skip_all, fields(name = %name), err(level = "warn", Display))]
pub async fn mcp_remove(app: AppHandle, state: State<'_, AppState>, name: String) -> IpcResult<Vec<McpServerView>> {
    let path = config_path(&app);
    let mut config = load(&path)?;
    let removed = config.servers.get(&name).cloned();
    config.remove(&name);
    config.save(&path)?;
    state.mcp.stop(&name).await;
    if let Some(entry) = removed {
        secrets::forget_mcp_secrets(&name, &entry).await;
    }
    // A server added later under this name is asked about afresh.
    drop_stale_allowances(&app, &config);
    Ok(views(config))
}

/// Adds the servers of another app's `mcp.json` (LM Studio, Cursor, Claude Desktop); a server
/// with a name already here is replaced. Nothing is added unless the whole file reads.
#[tauri::command]
#[tracing::instrument(skip_all, fields(file = ?file), err(level = "warn", Display))]
pub async fn mcp_import(app: AppHandle, file: PathBuf) -> IpcResult<Vec<McpServerView>> {
    let text = std::fs::read_to_string(&file)?;
    let mut imported = McpConfig::parse(&text).map_err(|e| {
        IpcError::invalid(format!("{}: {}", file.display(), e.to_string().trim_start_matches("mcp.json: ")))
    })?;
    if imported.servers.is_empty() {
        return Err(IpcError::invalid(format!("{} lists no servers", file.display())));
    }
    // Tokens in another app's file come here as secrets: kept in the keyring, not copied.
    let names: Vec<String> = imported.servers.keys().cloned().collect();
    secrets::keep_mcp_secrets(&mut imported, &names).await?;
    let path = config_path(&app);
    let mut config = load(&path)?;
    let replaced = replace_servers(&mut config, imported.servers);
    config.disabled.extend(imported.disabled);
    config.save(&path)?;
    // A server imported under a name already here but running something else asks again.
    after_replacing(&app, &config, replaced).await;
    Ok(views(config))
}

/// The tools of the servers `names` (those configured and switched on), started if they are
/// not running; each call asked on the page unless its tool was allowed always for the server
/// as it is now (its fingerprint). `None` when none is offered. A server that does not start is
/// an error naming it.
pub async fn chat_tools(app: &AppHandle, state: &AppState, names: &[String]) -> IpcResult<Option<McpTools>> {
    if names.is_empty() {
        return Ok(None);
    }
    let config = load(&config_path(app))?;
    let mut servers = Vec::new();
    // Each server's identity as this turn starts it (the file's entry: the same print as the
    // started one, whose secrets are back in place).
    let mut prints = HashMap::new();
    for (name, entry) in config.enabled().filter(|(name, _)| names.contains(name)) {
        prints.insert(name.clone(), sirocco_mcp::fingerprint(entry));
        let entry = secrets::mcp_entry_with_secrets(name, entry).await?;
        let server = state
            .mcp
            .get(name, &entry)
            .await
            .map_err(|e| IpcError { message: format!("The tool server {name} did not start: {e}"), ..e.into() })?;
        servers.push(server);
    }
    if servers.is_empty() {
        return Ok(None);
    }
    let allowed = state.allowed_tools.read().unwrap().clone();
    let (approvals, app, prints_for_approver) = (state.approvals.clone(), app.clone(), prints.clone());
    let tools = McpTools::new(
        servers,
        Box::new(move |call| {
            let answer = approvals.clone().ask(call.id.clone());
            // Allowed for the server the user was asked about: this turn's, as it runs now.
            let allowed = call.server.as_ref().and_then(|server| {
                let fingerprint = prints_for_approver.get(server)?.clone();
                Some(AllowedTool { server: server.clone(), tool: call.name.clone(), fingerprint })
            });
            let app = app.clone();
            Box::pin(async move {
                let answer = answer.await;
                if let (Approval::Always, Some(allowed)) = (answer, allowed) {
                    remember_allowed(&app, allowed);
                }
                answer
            })
        }),
    );
    // Tools allowed always before run without asking, if the server that has them now is the
    // one they were allowed on.
    for tool in tools_of(&tools) {
        let server = sirocco_chat::ToolHost::server_of(&tools, &tool).unwrap_or_default();
        if prints.get(&server).is_some_and(|print| sirocco_mcp::is_allowed(&allowed, &server, &tool, print)) {
            tools.allow_always(&tool);
        }
    }
    Ok(Some(tools))
}

fn tools_of(tools: &McpTools) -> Vec<String> {
    sirocco_chat::ToolHost::tools(tools).into_iter().map(|t| t.name).collect()
}

/// Keeps "always allow" for `allowed` (in memory and in the settings), in place of an older
/// allowance of the same tool (for another identity of its server, or none).
fn remember_allowed(app: &AppHandle, allowed: AllowedTool) {
    let state = app.state::<AppState>();
    let mut list = state.allowed_tools.write().unwrap();
    if !list.contains(&allowed) {
        list.retain(|a| !(a.fingerprint.is_empty() || a.server == allowed.server && a.tool == allowed.tool));
        list.push(allowed);
        if let Err(e) = settings::save_allowed_tools(app, &list) {
            tracing::warn!("tools allowed always: {e}");
        }
    }
}

/// The user's answer about the call `call_id` waiting in a turn.
#[tauri::command]
#[tracing::instrument(skip_all, fields(call_id = %call_id, approval = ?approval), err(level = "warn", Display))]
pub fn tool_approve(state: State<'_, AppState>, call_id: String, approval: Approval) -> IpcResult<()> {
    if !state.approvals.answer(&call_id, approval) {
        return Err(IpcError::not_found("this call is no longer waiting (its answer was stopped)"));
    }
    Ok(())
}

/// The tools allowed always, of those that hold now: for a server in the file that still is
/// the one they were allowed on (no others are listed, since none lets a call run).
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub fn tools_allowed(app: AppHandle, state: State<'_, AppState>) -> IpcResult<Vec<AllowedTool>> {
    let config = load(&config_path(&app))?;
    Ok(sirocco_mcp::still_held(&state.allowed_tools.read().unwrap(), &config))
}

/// Asks before `tool`'s calls again (whatever server identity it was allowed for).
#[tauri::command]
#[tracing::instrument(skip_all, fields(server = %server, tool = %tool), err(level = "warn", Display))]
pub fn tool_disallow(
    app: AppHandle,
    state: State<'_, AppState>,
    server: String,
    tool: String,
) -> IpcResult<Vec<AllowedTool>> {
    let config = load(&config_path(&app))?;
    let mut list = state.allowed_tools.write().unwrap();
    list.retain(|a| !(a.fingerprint.is_empty() || a.server == server && a.tool == tool));
    settings::save_allowed_tools(&app, &list)?;
    Ok(sirocco_mcp::still_held(&list, &config))
}
