//! `mcp.json` as LM Studio, Cursor and Claude Desktop write it:
//! `{"mcpServers": {"<name>": {"command", "args", "env", "cwd"} | {"url", "headers"}}}`, with
//! `"disabled": true` on a server that is switched off (as Cline and Claude Code write it).
//! Importing another app's file reads the same format; unknown fields are ignored, and what
//! cannot be used is refused with the server's name.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::secrets::{mask_args, mask_url};
use crate::McpError;

/// The servers of one `mcp.json`, by name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct McpConfig {
    pub servers: BTreeMap<String, ServerEntry>,
    /// The servers switched off: kept in the file, never started.
    pub disabled: BTreeSet<String>,
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

/// What a one-line description shows in place of a secret still in the entry (one taken to the
/// keyring shows as its placeholder).
const SECRET_SHOWN_AS: &str = "***";

impl ServerEntry {
    /// One line saying what it runs or where it is, without secrets: header values left out,
    /// secrets in the arguments or URL shown as `***` (or the keyring's placeholder).
    pub fn describe(&self) -> String {
        match self {
            Self::Stdio { command, args, .. } => {
                std::iter::once(command.clone()).chain(mask_args(args, SECRET_SHOWN_AS)).collect::<Vec<_>>().join(" ")
            }
            Self::Http { url, .. } => mask_url(url, SECRET_SHOWN_AS),
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
    #[serde(default)]
    disabled: bool,
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
        let mut disabled = BTreeSet::new();
        for (name, value) in raw.servers {
            if name.trim().is_empty() {
                return Err(McpError::Config("a server has an empty name".into()));
            }
            let bad = |why: String| McpError::Config(format!("server `{name}`: {why}"));
            let entry: RawEntry = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
            if entry.disabled {
                disabled.insert(name.clone());
            }
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
        Ok(Self { servers, disabled })
    }

    /// The servers switched on, by name.
    pub fn enabled(&self) -> impl Iterator<Item = (&String, &ServerEntry)> {
        self.servers.iter().filter(|(name, _)| !self.disabled.contains(*name))
    }

    /// Switches `name` on or off.
    pub fn set_enabled(&mut self, name: &str, on: bool) {
        if on {
            self.disabled.remove(name);
        } else {
            self.disabled.insert(name.to_owned());
        }
    }

    /// Removes `name` (and its switch).
    pub fn remove(&mut self, name: &str) {
        self.servers.remove(name);
        self.disabled.remove(name);
    }

    /// The file's text: every server, `"disabled": true` on those switched off.
    pub fn to_json(&self) -> String {
        let servers: serde_json::Map<String, serde_json::Value> = self
            .servers
            .iter()
            .map(|(name, entry)| {
                let mut value = serde_json::to_value(entry).expect("entries serialise");
                if self.disabled.contains(name) {
                    value["disabled"] = serde_json::Value::Bool(true);
                }
                (name.clone(), value)
            })
            .collect();
        serde_json::to_string_pretty(&serde_json::json!({ "mcpServers": servers })).expect("JSON serialises")
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
        let text = self.to_json();
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
        let keyed = ServerEntry::Stdio {
            command: "npx".into(),
            args: vec!["server".into(), "--api-key".into(), "sk-1".into(), "--token=${keyring}".into()],
            env: BTreeMap::new(),
            cwd: None,
        };
        assert_eq!(keyed.describe(), "npx server --api-key *** --token=${keyring}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mcp.json");
        config.save(&path).unwrap();
        assert_eq!(McpConfig::load(&path).unwrap(), config);
    }

    #[test]
    fn a_server_switched_off_stays_in_the_file_and_is_not_enabled() {
        let text =
            r#"{"mcpServers": {"a": {"command": "x", "disabled": true}, "b": {"url": "http://127.0.0.1:1/mcp"}}}"#;
        let mut config = McpConfig::parse(text).unwrap();
        assert_eq!(config.enabled().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["b"]);
        config.set_enabled("a", true);
        config.set_enabled("b", false);
        let back = McpConfig::parse(&config.to_json()).unwrap();
        assert_eq!(back, config);
        assert_eq!(back.enabled().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["a"]);
        assert!(!config.to_json().contains("\"disabled\": false"), "only switched-off servers say so");
        config.remove("b");
        assert!(config.disabled.is_empty() && config.servers.len() == 1);
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
