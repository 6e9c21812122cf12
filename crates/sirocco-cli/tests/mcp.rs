//! `sirocco mcp list` as a process: the app's mcp.json by default, each server's status and
//! tools (the reference server from npm), a failing server listed with why beside it.

mod common;

use std::process::Command;

fn sirocco(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sirocco")).args(args).envs(common::isolated(dir)).output().expect("sirocco runs")
}

#[test]
fn mcp_list_shows_each_servers_status_and_tools() {
    let dir = tempfile::tempdir().unwrap();
    let none = sirocco(dir.path(), &["mcp", "list"]);
    assert!(none.status.success());
    assert!(String::from_utf8_lossy(&none.stdout).contains("No MCP servers in"), "{none:?}");

    let everything =
        common::fixtures().join("mcp-servers/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    assert!(everything.is_file(), "missing {} — run tests/fixtures/fetch.sh", everything.display());
    let config = serde_json::json!({ "mcpServers": {
        "everything": { "command": "node", "args": [everything, "stdio"] },
        "broken": { "command": "/nonexistent/mcp-server" },
    }});
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/mcp.json"), config.to_string()).unwrap();
    let out = sirocco(dir.path(), &["mcp", "list"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let line =
        |start: &str| stdout.lines().find(|l| l.starts_with(start)).unwrap_or_else(|| panic!("no {start}: {stdout}"));
    assert!(line("everything").contains("ready") && line("everything").contains("tools"), "{stdout}");
    assert!(line("  echo").contains("Echoes back the input string"), "{stdout}");
    assert!(line("broken").contains("failed  could not start `/nonexistent/mcp-server`"), "{stdout}");

    // Another app's file, given by path; a broken one is refused with the server named.
    let other = dir.path().join("cursor-mcp.json");
    std::fs::write(&other, r#"{"mcpServers": {"half": {"args": ["x"]}}}"#).unwrap();
    let out = sirocco(dir.path(), &["mcp", "list", "--config", other.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("server `half`: needs a `command`"), "{out:?}");
}
