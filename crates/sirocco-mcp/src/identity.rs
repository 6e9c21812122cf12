//! Who a server is, for the permissions the user gives it: "always allow" a tool is bound to the
//! server's identity, not to its name. A server replaced or imported under the same name but
//! running something else (another command or arguments, another URL) is a stranger, and its
//! tools are asked about again.
//!
//! The identity is what decides the code that runs: a stdio server's command, arguments and
//! working folder, or a Streamable HTTP server's URL. Its secrets are not part of it (a key
//! rotated, or moved to the keyring, is the same server): each secret [`crate::secrets_in_args`]
//! and [`crate::secrets_in_url`] find counts as [`SECRET_PLACEHOLDER`], so the file's entry and
//! the started one, with its secrets put back, have one [`fingerprint`]. A stdio server's
//! environment is part of it too — `PATH`, `NODE_OPTIONS=--require …`, `LD_PRELOAD` or
//! `PYTHONPATH` change what runs — but each secret value (a variable named like a key, or a
//! value shaped like one, or already in the keyring) counts as the placeholder, so a rotated
//! token asks nothing again. Headers are not: they are credentials.

use sha2::{Digest, Sha256};

use crate::secrets::{is_secret_env, looks_like_token, mask_args, mask_url};
use crate::{McpConfig, ServerEntry, SECRET_PLACEHOLDER};

/// The identity of `entry`: the SHA-256 (hex) of its canonical form, a JSON array — `["stdio",
/// command, [args…], cwd, {env}]` or `["http", url]` — with every secret as [`SECRET_PLACEHOLDER`].
pub fn fingerprint(entry: &ServerEntry) -> String {
    let canonical = match entry {
        ServerEntry::Stdio { command, args, cwd, env } => {
            let env: std::collections::BTreeMap<&str, &str> = env
                .iter()
                .map(|(name, value)| {
                    let secret = is_secret_env(name) || looks_like_token(value) || value == SECRET_PLACEHOLDER;
                    (name.as_str(), if secret { SECRET_PLACEHOLDER } else { value.as_str() })
                })
                .collect();
            serde_json::json!(["stdio", command, mask_args(args, SECRET_PLACEHOLDER), cwd, env])
        }
        ServerEntry::Http { url, .. } => serde_json::json!(["http", mask_url(url, SECRET_PLACEHOLDER)]),
    };
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A tool the user allowed always ("Always allow"): its calls run without asking while its
/// server is still the one it was allowed on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct AllowedTool {
    /// The MCP server's name in `mcp.json`.
    pub server: String,
    pub tool: String,
    /// The server's [`fingerprint`] when it was allowed. Empty in what older versions saved:
    /// such an allowance holds for no server (its tools are asked about again).
    #[serde(default)]
    pub fingerprint: String,
}

impl AllowedTool {
    /// `tool` of the server `server`, which runs as `entry`, allowed always.
    pub fn new(server: &str, tool: &str, entry: &ServerEntry) -> Self {
        Self { server: server.to_owned(), tool: tool.to_owned(), fingerprint: fingerprint(entry) }
    }

    /// Whether this lets `tool` of the server `server`, whose fingerprint is now `print`, run
    /// without asking.
    pub fn holds_for(&self, server: &str, tool: &str, print: &str) -> bool {
        !self.fingerprint.is_empty() && self.server == server && self.tool == tool && self.fingerprint == print
    }
}

/// Whether `tool` of the server `server`, whose fingerprint is now `print`, runs without asking.
pub fn is_allowed(allowed: &[AllowedTool], server: &str, tool: &str, print: &str) -> bool {
    allowed.iter().any(|a| a.holds_for(server, tool, print))
}

/// The allowances of `allowed` that still hold for the servers of `config`: those whose server
/// is there and still has the identity it had when it was allowed. The others (the server was
/// removed, replaced, or saved by an older version) are dropped.
pub fn still_held(allowed: &[AllowedTool], config: &McpConfig) -> Vec<AllowedTool> {
    allowed
        .iter()
        .filter(|a| {
            config.servers.get(&a.server).is_some_and(|entry| a.holds_for(&a.server, &a.tool, &fingerprint(entry)))
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn stdio(command: &str, args: &[&str], env: &[(&str, &str)]) -> ServerEntry {
        ServerEntry::Stdio {
            command: command.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            cwd: None,
        }
    }

    fn http(url: &str, headers: &[(&str, &str)]) -> ServerEntry {
        ServerEntry::Http {
            url: url.into(),
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    #[test]
    fn the_same_server_has_the_same_fingerprint_and_another_one_another() {
        let web = stdio("npx", &["-y", "@example/web-server"], &[("DEBUG", "1")]);
        let print = fingerprint(&web);
        assert_eq!(print.len(), 64, "SHA-256 in hex: {print}");
        assert_eq!(fingerprint(&web.clone()), print, "the same identity, the same print");
        // Its environment is part of it (it can change what runs); a secret's value is not.
        assert_ne!(fingerprint(&stdio("npx", &["-y", "@example/web-server"], &[("DEBUG", "0")])), print);
        let evil = [("DEBUG", "1"), ("NODE_OPTIONS", "--require /tmp/evil.js")];
        assert_ne!(fingerprint(&stdio("npx", &["-y", "@example/web-server"], &evil)), print);
        let keyed = stdio("npx", &["-y", "@example/web-server"], &[("DEBUG", "1"), ("API_KEY", "k1")]);
        let rotated = stdio("npx", &["-y", "@example/web-server"], &[("DEBUG", "1"), ("API_KEY", "k2")]);
        assert_eq!(fingerprint(&keyed), fingerprint(&rotated), "a rotated key is the same server");
        // Another program, other arguments, another folder: another server.
        assert_ne!(fingerprint(&stdio("uvx", &["-y", "@example/web-server"], &[])), print);
        assert_ne!(fingerprint(&stdio("npx", &["-y", "@evil/web-server"], &[])), print);
        assert_ne!(fingerprint(&stdio("npx", &["-y", "@example/web-server", "--allow-write"], &[])), print);
        assert_ne!(fingerprint(&stdio("npx", &["-y @example/web-server"], &[])), print, "arguments split differently");
        let ServerEntry::Stdio { command, args, env, .. } = web.clone() else { unreachable!() };
        assert_ne!(fingerprint(&ServerEntry::Stdio { command, args, env, cwd: Some("/tmp/evil".into()) }), print);

        // A URL is a Streamable HTTP server's identity; its headers are not.
        let remote = http("https://mcp.example.com/mcp", &[("Authorization", "Bearer a")]);
        assert_eq!(
            fingerprint(&http("https://mcp.example.com/mcp", &[("Authorization", "Bearer b")])),
            fingerprint(&remote)
        );
        assert_ne!(fingerprint(&http("https://mcp.evil.example/mcp", &[])), fingerprint(&remote));
        assert_ne!(fingerprint(&http("https://mcp.example.com/mcp", &[])), print, "stdio and http never meet");
    }

    #[test]
    fn secrets_are_not_part_of_the_identity_wherever_they_are() {
        let raw = stdio("npx", &["server", "--api-key", "sk-1", "https://u:pw@h.example/?token=t"], &[]);
        let rotated = stdio("npx", &["server", "--api-key", "sk-2", "https://u:pw2@h.example/?token=t2"], &[]);
        assert_eq!(fingerprint(&raw), fingerprint(&rotated), "a rotated key is the same server");
        let mut kept = raw.clone();
        assert!(!kept.take_secrets("s").is_empty());
        assert_eq!(fingerprint(&kept), fingerprint(&raw), "in the keyring or in the file, the same server");
        let remote = http("https://mcp.example.com/mcp?api_key=abc&region=eu", &[]);
        let mut kept = remote.clone();
        kept.take_secrets("r");
        assert_eq!(fingerprint(&kept), fingerprint(&remote));
        assert_ne!(fingerprint(&http("https://mcp.example.com/mcp?api_key=abc&region=us", &[])), fingerprint(&remote));
    }

    #[test]
    fn an_allowance_holds_only_for_the_server_it_was_given_to() {
        let web = stdio("npx", &["-y", "@example/web-server"], &[]);
        let other = stdio("npx", &["-y", "@evil/web-server"], &[]);
        let allowed = vec![AllowedTool::new("web", "fetch", &web)];
        assert!(is_allowed(&allowed, "web", "fetch", &fingerprint(&web)));
        assert!(!is_allowed(&allowed, "web", "fetch", &fingerprint(&other)), "same name, another server");
        assert!(!is_allowed(&allowed, "web", "post", &fingerprint(&web)), "another tool");
        assert!(!is_allowed(&allowed, "files", "fetch", &fingerprint(&web)), "another name");

        // What older versions saved, without a fingerprint, holds for nothing.
        let old: Vec<AllowedTool> = serde_json::from_str(r#"[{"server": "web", "tool": "fetch"}]"#).unwrap();
        assert_eq!(old[0].fingerprint, "");
        assert!(!is_allowed(&old, "web", "fetch", &fingerprint(&web)));
        assert!(!is_allowed(&old, "web", "fetch", ""), "not even for an empty print");

        // Against a configuration: what was replaced, removed or saved without a print is dropped.
        let files = stdio("node", &["files.js"], &[]);
        let list = vec![
            AllowedTool::new("web", "fetch", &web),
            AllowedTool::new("files", "read", &files),
            AllowedTool::new("gone", "x", &web),
            old[0].clone(),
        ];
        let config = McpConfig {
            servers: BTreeMap::from([("web".into(), web.clone()), ("files".into(), files.clone())]),
            ..McpConfig::default()
        };
        assert_eq!(still_held(&list, &config), list[..2]);
        let replaced = McpConfig {
            servers: BTreeMap::from([("web".into(), other), ("files".into(), files)]),
            ..McpConfig::default()
        };
        assert_eq!(still_held(&list, &replaced), list[1..2], "the replaced web server's tools ask again");
    }
}
