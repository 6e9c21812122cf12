//! What a stdio server is started with, seen from inside real servers: a Python one written with
//! PyPI's `mcp` SDK (tests/mcp/env_server.py), the reference `server-everything` run by `node`
//! and by `npx` (its `get-env` tool). Sirocco's own secrets must not reach them; the desktop's
//! variables and the entry's own must, and secrets taken from the entry's arguments to the
//! keyring must be back in place. Fixtures: tests/fixtures/fetch.sh.
//!
//! A test binary of its own, with one test: it puts secrets into this process's environment,
//! which every thread shares, so nothing may run beside it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Value};
use sirocco_mcp::{is_passed_through, McpLimits, McpServer, ServerEntry, SECRET_PLACEHOLDER};

fn fixtures() -> PathBuf {
    std::env::var_os("SIROCCO_FIXTURES").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/sirocco/fixtures")
    })
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What Sirocco's environment may hold and no server may see.
const PARENT_SECRETS: [(&str, &str); 5] = [
    ("HF_TOKEN", "hf_parentprocesssecretabcdefghij"),
    ("SIROCCO_API_KEY", "sk-sirocco-parent-process-secret"),
    ("AWS_SECRET_ACCESS_KEY", "aws-parent-process-secret"),
    ("OPENAI_API_KEY", "sk-openai-parent-process-secret"),
    // Not a secret, but Sirocco's business only: it would change how a Node server runs.
    ("NODE_OPTIONS", "--max-old-space-size=4096"),
];

/// The server's answer to `tool` (no arguments), read as JSON.
async fn report(server: &McpServer, tool: &str) -> Value {
    let out = server.call(tool, json!({})).await.unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(!out.is_error, "{tool}: {}", out.text);
    serde_json::from_str(&out.text).unwrap_or_else(|e| panic!("{tool} answered {}: {e}", out.text))
}

/// Checks a server's environment `env` against its entry's `declared` variables. `strict`: every
/// variable is one passed through or declared (a program that adds its own, as `npx` does, is
/// checked for the secrets only).
fn check_environment(who: &str, env: &Value, declared: &BTreeMap<String, String>, strict: bool) {
    let env = env.as_object().unwrap_or_else(|| panic!("{who}: not an object: {env}"));
    for (name, value) in PARENT_SECRETS {
        assert!(!env.contains_key(name), "{who} sees {name}");
        assert!(!env.values().any(|v| v.as_str().is_some_and(|v| v.contains(value))), "{who} sees {name}'s value");
    }
    for (name, value) in declared {
        assert_eq!(env.get(name).and_then(Value::as_str), Some(value.as_str()), "{who}: its own {name}");
    }
    let parent = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("this test needs {name} set"));
    assert_eq!(env.get("HOME").and_then(Value::as_str), Some(parent("HOME").as_str()), "{who}: HOME");
    assert!(env.contains_key("PATH"), "{who}: PATH");
    if strict {
        assert_eq!(env["PATH"].as_str(), Some(parent("PATH").as_str()), "{who}: PATH");
        for name in env.keys() {
            assert!(
                is_passed_through(name) || declared.contains_key(name),
                "{who} got {name}, neither passed nor declared"
            );
        }
    }
}

#[test]
fn a_server_sees_the_desktops_variables_and_its_own_never_siroccos_secrets() {
    // Set before any other thread exists (the runtime's included): only then is it sound.
    for (name, value) in PARENT_SECRETS {
        std::env::set_var(name, value);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        // Python, with a key among its arguments and a token among its variables: both go to
        // the "keyring" (a map here) and come back when it starts.
        let python = fixtures().join("venv/bin/python");
        assert!(python.is_file(), "missing {} — run tests/fixtures/fetch.sh", python.display());
        let declared = BTreeMap::from([
            ("DECLARED".to_owned(), "from the entry".to_owned()),
            ("SERVICE_TOKEN".to_owned(), "tok-declared-by-the-entry".to_owned()),
        ]);
        let args = [repo().join("tests/mcp/env_server.py").to_string_lossy().into_owned()]
            .into_iter()
            .chain(["--api-key", "sk-entry-abcdefghijklmnopqrst", "--plain", "value"].map(String::from))
            .collect::<Vec<_>>();
        let mut entry = ServerEntry::Stdio {
            command: python.to_string_lossy().into_owned(),
            args: args.clone(),
            env: declared.clone(),
            cwd: None,
        };
        let keyring: BTreeMap<String, String> = entry.take_secrets("env").into_iter().collect();
        assert_eq!(keyring.keys().collect::<Vec<_>>(), ["mcp/env/arg/2", "mcp/env/env/SERVICE_TOKEN"]);
        assert!(!entry.describe().contains("sk-entry") && entry.describe().contains(SECRET_PLACEHOLDER));
        let started = entry.with_secrets("env", |account| Ok(keyring.get(account).cloned())).unwrap();
        let server = McpServer::connect("env", &started, McpLimits::default()).await.expect("the Python server starts");
        check_environment("the Python server", &report(&server, "environment").await, &declared, true);
        assert_eq!(report(&server, "arguments").await, json!(args[1..]), "its arguments, the key back in place");
        server.close().await;

        // Node, and npx (which needs HOME for npm's cache and config).
        let servers = fixtures().join("mcp-servers");
        let script = servers.join("node_modules/@modelcontextprotocol/server-everything/dist/index.js");
        assert!(script.is_file(), "missing {} — run tests/fixtures/fetch.sh", script.display());
        let declared = BTreeMap::from([("DECLARED".to_owned(), "for node".to_owned())]);
        let node = ServerEntry::Stdio {
            command: "node".into(),
            args: vec![script.to_string_lossy().into_owned(), "stdio".into()],
            env: declared.clone(),
            cwd: None,
        };
        let server = McpServer::connect("node", &node, McpLimits::default()).await.expect("node starts");
        check_environment("the Node server", &report(&server, "get-env").await, &declared, true);
        server.close().await;
        let npx = ServerEntry::Stdio {
            command: "npx".into(),
            args: vec![
                "--prefix".into(),
                servers.to_string_lossy().into_owned(),
                "mcp-server-everything".into(),
                "stdio".into(),
            ],
            env: declared.clone(),
            cwd: None,
        };
        let server = McpServer::connect("npx", &npx, McpLimits::default()).await.expect("npx starts");
        check_environment("the server npx runs", &report(&server, "get-env").await, &declared, false);
        server.close().await;
    });
}
