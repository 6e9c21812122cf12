//! Real MCP servers: the reference servers from npm (`server-everything`, `server-filesystem`)
//! over stdio, a Streamable HTTP server written with PyPI's `mcp` SDK, and a hostile one that
//! exits, hangs, floods and answers garbage (tests/mcp/). Fixtures: tests/fixtures/fetch.sh.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sirocco_mcp::{McpError, McpLimits, McpPool, McpServer, ServerEntry};
use tokio::io::AsyncBufReadExt;

fn fixtures() -> PathBuf {
    std::env::var_os("SIROCCO_FIXTURES").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/sirocco/fixtures")
    })
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn npm_server(package: &str, args: &[&str]) -> ServerEntry {
    let script = fixtures().join("mcp-servers/node_modules/@modelcontextprotocol").join(package).join("dist/index.js");
    assert!(script.is_file(), "missing {} — run tests/fixtures/fetch.sh", script.display());
    let mut all = vec![script.to_string_lossy().into_owned()];
    all.extend(args.iter().map(|a| a.to_string()));
    ServerEntry::Stdio { command: "node".into(), args: all, env: BTreeMap::new(), cwd: None }
}

fn python_server(script: &str, args: &[&str]) -> ServerEntry {
    let python = fixtures().join("venv/bin/python").to_string_lossy().into_owned();
    let mut all = vec![repo().join("tests/mcp").join(script).to_string_lossy().into_owned()];
    all.extend(args.iter().map(|a| a.to_string()));
    ServerEntry::Stdio { command: python, args: all, env: BTreeMap::new(), cwd: None }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_everything_server_lists_and_runs_its_tools() {
    let server = McpServer::connect("everything", &npm_server("server-everything", &["stdio"]), McpLimits::default())
        .await
        .expect("server-everything starts");
    let names: Vec<&str> = server.tools().iter().map(|t| t.name.as_str()).collect();
    assert!(names.contains(&"echo") && names.contains(&"get-sum"), "{names:?}");
    let echo = server.tools().iter().find(|t| t.name == "echo").unwrap();
    assert_eq!(echo.description, "Echoes back the input string");
    assert_eq!(echo.input_schema["properties"]["message"]["type"], "string");

    let out = server.call("echo", json!({ "message": "hello from Sirocco" })).await.unwrap();
    assert_eq!((out.text.as_str(), out.is_error), ("Echo: hello from Sirocco", false));
    let sum = server.call("get-sum", json!({ "a": 2, "b": 40 })).await.unwrap();
    assert!(sum.text.contains("42"), "{}", sum.text);
    // Content that is not text is named, not pasted as base64.
    if names.contains(&"get-tiny-image") {
        let image = server.call("get-tiny-image", json!({})).await.unwrap();
        assert!(image.text.contains("[an image, image/png"), "{}", image.text);
    }
    // Arguments the tool's schema refuses: the server says so, as an error result or a failed call.
    match server.call("get-sum", json!({ "a": "two" })).await {
        Ok(out) => assert!(out.is_error, "{out:?}"),
        Err(e) => assert!(matches!(e, McpError::Call { .. }), "{e}"),
    }
    let none = server.call("no-such-tool", json!({})).await.unwrap_err();
    assert!(matches!(none, McpError::NoSuchTool { .. }), "{none}");
    let bad = server.call("echo", json!(["not", "an", "object"])).await.unwrap_err();
    assert!(matches!(bad, McpError::BadArguments { .. }), "{bad}");
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_filesystem_server_reads_inside_its_folder_and_refuses_outside() {
    let allowed = tempfile::tempdir().unwrap();
    std::fs::write(allowed.path().join("notes.txt"), "the lighthouse keeper's log").unwrap();
    let root = allowed.path().canonicalize().unwrap();
    let entry = npm_server("server-filesystem", &[root.to_str().unwrap()]);
    let server = McpServer::connect("files", &entry, McpLimits::default()).await.expect("server-filesystem starts");
    let names: Vec<&str> = server.tools().iter().map(|t| t.name.as_str()).collect();
    let read = if names.contains(&"read_text_file") { "read_text_file" } else { "read_file" };
    let out = server.call(read, json!({ "path": root.join("notes.txt") })).await.unwrap();
    assert_eq!(out.text.trim(), "the lighthouse keeper's log");
    let listing = server.call("list_directory", json!({ "path": root })).await.unwrap();
    assert!(listing.text.contains("notes.txt"), "{}", listing.text);
    match server.call(read, json!({ "path": "/etc/hostname" })).await {
        Ok(out) => assert!(out.is_error && out.text.contains("denied"), "{out:?}"),
        Err(e) => assert!(e.to_string().contains("denied"), "{e}"),
    }
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamable_http_server_gets_its_headers_and_runs_its_tools() {
    let python = fixtures().join("venv/bin/python");
    let mut child = tokio::process::Command::new(python)
        .arg(repo().join("tests/mcp/python_server.py"))
        .arg("http")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python runs");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await.unwrap().unwrap().unwrap();
    let port: u16 = line.strip_prefix("listening on ").expect("the server says its port").parse().unwrap();
    let entry = ServerEntry::Http {
        url: format!("http://127.0.0.1:{port}/mcp"),
        headers: BTreeMap::from([("Authorization".to_owned(), "Bearer sk-mcp-test".to_owned())]),
    };
    let server = McpServer::connect("http", &entry, McpLimits::default()).await.expect("the HTTP server connects");
    let mut names: Vec<&str> = server.tools().iter().map(|t| t.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["add", "whoami"]);
    assert_eq!(server.call("add", json!({ "a": 19, "b": 23 })).await.unwrap().text, "42");
    assert_eq!(server.call("whoami", json!({})).await.unwrap().text, "Bearer sk-mcp-test");
    server.close().await;
    // A server that is not there: a clear error, quickly.
    child.kill().await.unwrap();
    let gone = McpServer::connect("http", &entry, McpLimits { start: Duration::from_secs(10), ..McpLimits::default() })
        .await
        .err()
        .expect("no server, no connection");
    assert!(gone.to_string().starts_with("http"), "{gone}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_server_gives_clear_errors_and_nothing_else_breaks() {
    let limits = McpLimits { start: Duration::from_secs(20), call: Duration::from_secs(3), max_result_chars: 4000 };
    // Exits at start: the error quotes what it wrote.
    let exited = McpServer::connect("hostile", &python_server("hostile_server.py", &["exit-at-start"]), limits)
        .await
        .err()
        .expect("a server that exits does not connect");
    assert!(exited.to_string().contains("cannot open /nonexistent/db"), "{exited}");
    // Answers the handshake with garbage: no handshake, so the start's time limit.
    let quick = McpLimits { start: Duration::from_secs(4), ..limits };
    let garbage = McpServer::connect("hostile", &python_server("hostile_server.py", &["garbage-at-start"]), quick)
        .await
        .err()
        .expect("garbage is not a handshake");
    assert!(matches!(garbage, McpError::Timeout { secs: 4, .. }), "{garbage}");
    // A program that is not there.
    let missing =
        ServerEntry::Stdio { command: "/nonexistent/mcp-server".into(), args: vec![], env: BTreeMap::new(), cwd: None };
    let spawn = McpServer::connect("missing", &missing, limits).await.err().expect("nothing to start");
    assert!(matches!(spawn, McpError::Spawn { .. }), "{spawn}");

    let server = McpServer::connect("hostile", &python_server("hostile_server.py", &["normal"]), limits)
        .await
        .expect("the handshake itself is proper");
    // Fails: an error result the model can read.
    let fails = server.call("fails", json!({})).await.unwrap();
    assert_eq!((fails.text.as_str(), fails.is_error), ("the disk is on fire", true));
    // 10 MB: cut, with a note.
    let huge = server.call("huge", json!({})).await.unwrap();
    assert_eq!(huge.cut_from, Some(10_000_000));
    assert!(
        huge.text.len() < 5000 && huge.text.contains("only the first 4000 fit"),
        "{}",
        &huge.text[huge.text.len() - 200..]
    );
    // Hangs: the time limit ends the call, and the server still answers the next one.
    let hang = server.call("hang", json!({})).await.unwrap_err();
    assert!(matches!(hang, McpError::Timeout { secs: 3, .. }), "{hang}");
    assert!(server.call("fails", json!({})).await.is_ok(), "the server answers after a timed-out call");
    // Garbage instead of an answer: no answer, so the time limit.
    let garbage = server.call("garbage", json!({})).await.unwrap_err();
    assert!(matches!(garbage, McpError::Timeout { .. }), "{garbage}");
    // Crashes mid-call: an error naming the crash.
    let crash = server.call("crash", json!({})).await.unwrap_err();
    assert!(matches!(crash, McpError::Call { .. }) && crash.to_string().contains("segmentation fault"), "{crash}");
    let after = server.call("fails", json!({})).await.unwrap_err();
    assert!(matches!(after, McpError::Call { .. }), "a dead server's calls fail at once: {after}");
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_shares_a_running_server_and_starts_again_one_that_died_or_changed() {
    let limits = McpLimits { start: Duration::from_secs(20), call: Duration::from_secs(5), max_result_chars: 4000 };
    let pool = McpPool::new(limits);
    let entry = python_server("hostile_server.py", &["normal"]);
    let first = pool.get("hostile", &entry).await.expect("starts");
    let again = pool.get("hostile", &entry).await.unwrap();
    assert!(Arc::ptr_eq(&first, &again), "a running server is shared, not started twice");
    assert_eq!(pool.running().await, ["hostile"]);

    // It crashes: the next use starts it again, and that one answers.
    let crash = first.call("crash", json!({})).await.unwrap_err();
    assert!(matches!(crash, McpError::Call { .. }), "{crash}");
    assert!(first.is_closed(), "a server that exited is seen as gone");
    let restarted = pool.get("hostile", &entry).await.unwrap();
    assert!(!Arc::ptr_eq(&first, &restarted));
    assert!(restarted.call("fails", json!({})).await.unwrap().is_error);

    // Its entry changed (the user edited it): started as it says now.
    let everything = npm_server("server-everything", &["stdio"]);
    let changed = pool.get("hostile", &everything).await.unwrap();
    assert!(changed.tools().iter().any(|t| t.name == "echo"), "the new entry's server runs");
    drop((first, again, restarted));
    pool.stop("hostile").await;
    assert!(pool.running().await.is_empty());
    // One that cannot start is an error, and nothing is kept.
    let missing =
        ServerEntry::Stdio { command: "/nonexistent/mcp-server".into(), args: vec![], env: BTreeMap::new(), cwd: None };
    assert!(pool.get("missing", &missing).await.is_err());
    assert!(pool.running().await.is_empty());
    drop(changed);
    pool.stop_all().await;
}
