//! `mcp.json` as LM Studio, Cursor and Claude Desktop write it:
//! `{"mcpServers": {"<name>": {"command", "args", "env", "cwd"} | {"url", "headers"}}}`.
//! Importing another app's file reads the same format; unknown fields are ignored, and what
//! cannot be used is refused with the server's name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::McpError;

/// The servers of one `mcp.json`, by name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
pub struct McpConfig {
    #[serde(rename = "mcpServers", default)]
    pub servers: BTreeMap<String, ServerEntry>,
}

/// How to reach one server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(untagged)]
pub enum ServerEntry {
    /// A program speaking MCP over its stdin and stdout.
    Stdio {
        command: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        args: Vec<String>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        env: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cwd: Option<PathBuf>,
    },
    /// A Streamable HTTP endpoint.
    Http {
        url: String,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        headers: BTreeMap<String, String>,
    },
}

impl ServerEntry {
    /// One line saying what it runs or where it is (no secrets: header values left out).
    pub fn describe(&self) -> String {
        match self {
            Self::Stdio { command, args, .. } => {
                std::iter::once(command.as_str()).chain(args.iter().map(String::as_str)).collect::<Vec<_>>().join(" ")
            }
            Self::Http { url, .. } => url.clone(),
        }
    }
}

/// The raw form, every field optional: checked into [`ServerEntry`] with the server named.
#[derive(Deserialize)]
struct RawEntry {
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    cwd: Option<PathBuf>,
    #[serde(default)]
    url: Option<String>,
    /// Windsurf's name for `url`.
    #[serde(default, rename = "serverUrl")]
    server_url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawConfig {
    #[serde(rename = "mcpServers", default)]
    servers: BTreeMap<String, serde_json::Value>,
}

impl McpConfig {
    /// Reads `text` (an `mcp.json`), checking every server.
    pub fn parse(text: &str) -> Result<Self, McpError> {
        let raw: RawConfig =
            serde_json::from_str(text).map_err(|e| McpError::Config(format!("not an mcp.json file: {e}")))?;
        let mut servers = BTreeMap::new();
        for (name, value) in raw.servers {
            if name.trim().is_empty() {
                return Err(McpError::Config("a server has an empty name".into()));
            }
            let bad = |why: String| McpError::Config(format!("server `{name}`: {why}"));
            let entry: RawEntry = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
            let url = entry.url.or(entry.server_url);
            let server = match (entry.command, url) {
                (Some(command), None) if !command.trim().is_empty() => {
                    ServerEntry::Stdio { command, args: entry.args, env: entry.env, cwd: entry.cwd }
                }
                (None, Some(url)) if url.starts_with("http://") || url.starts_with("https://") => {
                    ServerEntry::Http { url, headers: entry.headers }
                }
                (None, Some(url)) => return Err(bad(format!("`{url}` is not an http(s) URL"))),
                (Some(_), Some(_)) => return Err(bad("give a `command` or a `url`, not both".into())),
                _ => return Err(bad("needs a `command` (stdio) or a `url` (Streamable HTTP)".into())),
            };
            servers.insert(name, server);
        }
        Ok(Self { servers })
    }

    /// Reads the file at `path`; a file that is not there is an empty configuration.
    pub fn load(path: &Path) -> Result<Self, McpError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text).map_err(|e| McpError::Config(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(McpError::Config(format!("{}: {e}", path.display()))),
        }
    }

    /// Writes the configuration to `path` (through a temporary file: a crash leaves the old one).
    pub fn save(&self, path: &Path) -> Result<(), McpError> {
        let io = |e: std::io::Error| McpError::Config(format!("{}: {e}", path.display()));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let text = serde_json::to_string_pretty(self).expect("configurations serialise");
        let partial = path.with_extension("json.part");
        std::fs::write(&partial, text + "\n").map_err(io)?;
        std::fs::rename(&partial, path).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lm_studio_and_cursor_files_and_writes_them_back_the_same() {
        let text = r#"{
          "mcpServers": {
            "everything": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything"], "env": { "DEBUG": "1" } },
            "remote": { "url": "https://example.com/mcp", "headers": { "Authorization": "Bearer sk-1" }, "type": "http" },
            "windsurf": { "serverUrl": "http://127.0.0.1:9000/mcp" }
          }
        }"#;
        let config = McpConfig::parse(text).unwrap();
        assert_eq!(config.servers.len(), 3);
        assert_eq!(config.servers["everything"].describe(), "npx -y @modelcontextprotocol/server-everything");
        assert!(
            matches!(&config.servers["remote"], ServerEntry::Http { headers, .. } if headers["Authorization"] == "Bearer sk-1")
        );
        assert!(!config.servers["remote"].describe().contains("sk-1"), "descriptions carry no secrets");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mcp.json");
        config.save(&path).unwrap();
        assert_eq!(McpConfig::load(&path).unwrap(), config);
    }

    #[test]
    fn what_cannot_be_used_is_refused_with_the_server_named() {
        for (text, needle) in [
            (r#"{"mcpServers": {"a": {}}}"#, "server `a`: needs a `command`"),
            (
                r#"{"mcpServers": {"b": {"command": "x", "url": "http://y"}}}"#,
                "server `b`: give a `command` or a `url`",
            ),
            (r#"{"mcpServers": {"c": {"url": "file:///etc/passwd"}}}"#, "server `c`: `file:///etc/passwd` is not"),
            (r#"{"mcpServers": {"d": {"command": "x", "args": "not a list"}}}"#, "server `d`"),
            (r#"{"mcpServers": 3}"#, "not an mcp.json file"),
            ("not json", "not an mcp.json file"),
        ] {
            let error = McpConfig::parse(text).unwrap_err().to_string();
            assert!(error.contains(needle), "{text}: {error}");
        }
        assert_eq!(McpConfig::load(Path::new("/nonexistent/mcp.json")).unwrap(), McpConfig::default());
    }
}
