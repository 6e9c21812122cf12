//! Turns with MCP tools on a real model (SmolLM2, held to the tool's schema by a grammar on
//! the first step) and a real MCP server (npm's server-everything over stdio): the call is
//! approved or denied, runs, its result goes back, the model goes on in a new answer under
//! the one that called; all kept in the store's tree and exported.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use sirocco_chat::{run_turn_with_tools, Approval, McpTools, PendingApprovals, ToolHost, Turn, TurnEvent, TurnRequest};
use sirocco_engine::{Engine, LoadParams, SamplingParams};
use sirocco_mcp::{McpLimits, McpServer, ServerEntry};
use sirocco_store::{Role, Store, ToolCallRecord, ToolCallStatus};

fn fixtures() -> PathBuf {
    std::env::var_os("SIROCCO_FIXTURES").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/sirocco/fixtures")
    })
}

async fn setup() -> (tempfile::TempDir, Store, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("chats.db")).await.unwrap();
    let engine = Engine::start();
    let params = LoadParams { context_length: Some(4096), ..LoadParams::default() };
    let model = fixtures().join("SmolLM2-135M-Instruct.Q4_1.gguf");
    engine.load(&model, params, |_| {}, Arc::new(AtomicBool::new(false))).await.expect("SmolLM2 loads");
    (dir, store, engine)
}

async fn everything() -> McpServer {
    let script = fixtures().join("mcp-servers/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    assert!(script.is_file(), "missing {} — run tests/fixtures/fetch.sh", script.display());
    let entry = ServerEntry::Stdio {
        command: "node".into(),
        args: vec![script.to_string_lossy().into_owned(), "stdio".into()],
        env: BTreeMap::new(),
        cwd: None,
    };
    McpServer::connect("everything", &entry, McpLimits::default()).await.expect("server-everything starts")
}

/// Tools approved with `answer`, every request for approval counted.
fn tools(server: McpServer, answer: Approval, asked: Arc<Mutex<Vec<String>>>) -> McpTools {
    McpTools::new(
        vec![Arc::new(server)],
        Box::new(move |call: &ToolCallRecord| {
            asked.lock().unwrap().push(call.name.clone());
            Box::pin(std::future::ready(answer))
        }),
    )
}

async fn turn(store: &Store, engine: &Engine, host: &dyn ToolHost, request: TurnRequest) -> (Vec<TurnEvent>, i64) {
    let mut events = Vec::new();
    let last = run_turn_with_tools(
        store,
        engine,
        request,
        Some(host),
        None,
        |_| {},
        |e| {
            events.push(e);
            true
        },
    )
    .await
    .expect("the turn runs");
    (events, last)
}

fn ask(text: &str) -> TurnRequest {
    TurnRequest {
        turn: Turn::Send { parent_id: None, text: text.into(), attachments: Vec::new() },
        sampling: SamplingParams { temperature: 0.0, max_tokens: 64, ..SamplingParams::default() },
        require_tool: true,
        ..TurnRequest::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_call_runs_and_the_model_goes_on_from_its_result() {
    let (_dir, store, engine) = setup().await;
    let asked = Arc::new(Mutex::new(Vec::new()));
    let host = tools(everything().await, Approval::Once, asked.clone());
    assert!(host.tools().iter().any(|t| t.name == "get-sum"), "the server's tools are offered");
    let (events, last) =
        turn(&store, &engine, &host, ask("Add 17 and 25 with the get-sum tool, then tell me the result.")).await;
    let shape = common::shape(&events);
    // Started, the calling step done, its calls, each running then its result, continued… done.
    assert!(shape.starts_with("sdcuo") && shape.contains("on"), "{shape}");
    assert!(shape.ends_with('d') && !shape.contains('x'), "{shape}");
    assert!(!asked.lock().unwrap().is_empty(), "the user was asked");

    // The tree: question → the answer that called (calls and results kept) → the answer after.
    let Some(TurnEvent::ToolCalls { answer_id, .. }) = events.iter().find(|e| matches!(e, TurnEvent::ToolCalls { .. }))
    else {
        unreachable!()
    };
    let caller = store.message(*answer_id).await.unwrap();
    assert_eq!(caller.role, Role::Assistant);
    let call = &caller.tool_calls[0];
    assert_eq!(call.server.as_deref(), Some("everything"));
    let result = call.result.as_ref().expect("the call ran");
    if call.name == "get-sum" {
        // The schema held the arguments: two numbers, and the server's sum of them.
        let args: serde_json::Value = serde_json::from_str(&call.arguments).unwrap();
        let sum = args["a"].as_f64().unwrap() + args["b"].as_f64().unwrap();
        assert_eq!(result.status, ToolCallStatus::Done, "{result:?}");
        assert!(result.text.contains(&sum.to_string()), "{} for {args}", result.text);
    } else {
        assert!(matches!(result.status, ToolCallStatus::Done | ToolCallStatus::ToolError), "{result:?}");
    }
    let first_after =
        events.iter().find_map(|e| if let TurnEvent::Continued { answer_id } = e { Some(*answer_id) } else { None });
    let after = store.message(first_after.unwrap()).await.unwrap();
    assert_eq!(after.parent_id, Some(caller.id), "the model goes on under the answer that called");
    let branch = store.current_branch(caller.conversation_id).await.unwrap();
    assert_eq!(branch.last().unwrap().id, last);

    // Exported: the call folded with its arguments and result; the JSON export keeps it.
    let md = store.export_markdown(caller.conversation_id).await.unwrap();
    assert!(md.contains(&format!("<summary>Tool: {} (everything) — ", call.name)), "{md}");
    let json = serde_json::to_vec(&store.export(&[caller.conversation_id]).await.unwrap()).unwrap();
    let imported = store.import(&json).await.unwrap();
    let copy = store.current_branch(imported[0]).await.unwrap();
    assert!(copy.iter().any(|m| m.tool_calls == caller.tool_calls), "the import keeps the calls and results");

    // Regenerating the question branches the whole chain; the first stays.
    let question = caller.parent_id.unwrap();
    let request = TurnRequest {
        conversation_id: Some(caller.conversation_id),
        turn: Turn::Regenerate { question_id: question },
        ..ask("")
    };
    let (_, again) = turn(&store, &engine, &host, request).await;
    assert_ne!(again, last);
    assert_eq!(store.message(*answer_id).await.unwrap().tool_calls, caller.tool_calls, "the first chain is kept");
    let siblings = store.current_branch(caller.conversation_id).await.unwrap();
    assert!(siblings.iter().all(|m| m.id != caller.id), "the branch on screen is the new one");
    host.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_call_does_not_run_and_the_model_reads_the_refusal() {
    let (_dir, store, engine) = setup().await;
    let asked = Arc::new(Mutex::new(Vec::new()));
    let host = tools(everything().await, Approval::Deny, asked.clone());
    let (events, last) = turn(&store, &engine, &host, ask("Echo the word lighthouse with the echo tool.")).await;
    let shape = common::shape(&events);
    assert!(shape.starts_with("sdcon") && !shape.contains('u'), "nothing runs when denied: {shape}");
    let denied = events
        .iter()
        .find_map(|e| if let TurnEvent::ToolResult { result, .. } = e { Some(result.clone()) } else { None })
        .unwrap();
    assert_eq!(denied.status, ToolCallStatus::Denied);
    // The refusal is what the next step was given, as the tool's message.
    let after = store.message(last).await.unwrap();
    let caller = store.message(after.parent_id.unwrap()).await.unwrap();
    assert_eq!(caller.tool_calls[0].result.as_ref().unwrap().text, "The user did not allow this call.");
    let calls: usize =
        events.iter().map(|e| if let TurnEvent::ToolCalls { calls, .. } = e { calls.len() } else { 0 }).sum();
    assert_eq!(asked.lock().unwrap().len(), calls, "asked for each call");
    host.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn always_asks_once_and_stop_ends_a_running_call() {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let host = tools(everything().await, Approval::Always, asked.clone());
    let call = ToolCallRecord {
        id: "call_1".into(),
        name: "echo".into(),
        server: None,
        arguments: r#"{"message": "hi"}"#.into(),
        result: None,
    };
    assert_eq!(host.approve(&call).await, Approval::Always);
    assert_eq!(host.approve(&call).await, Approval::Always);
    assert_eq!(asked.lock().unwrap().len(), 1, "allowed always: asked once");
    let stop = Arc::new(AtomicBool::new(false));
    let echoed = host.run(&call, 100, stop.clone()).await;
    assert_eq!((echoed.status, echoed.text.as_str()), (ToolCallStatus::Done, "Echo: hi"));
    // A long echo cut to what the context has left, with the note.
    let long =
        ToolCallRecord { arguments: serde_json::json!({ "message": "x".repeat(500) }).to_string(), ..call.clone() };
    let cut = host.run(&long, 100, stop.clone()).await;
    assert_eq!(cut.cut_from, Some(506));
    assert!(cut.text.contains("only the first 100 fit"), "{}", cut.text);
    // Bad arguments from the model: a failed call with why, not a crash.
    let bad = ToolCallRecord { arguments: "{not json".into(), ..call.clone() };
    assert_eq!(host.run(&bad, 100, stop.clone()).await.status, ToolCallStatus::Failed);
    // Stopped: the long-running operation ends without waiting for it.
    let slow = ToolCallRecord {
        name: "trigger-long-running-operation".into(),
        arguments: r#"{"duration": 60, "steps": 5}"#.into(),
        ..call
    };
    let flag = stop.clone();
    let started = std::time::Instant::now();
    let (out, _) = tokio::join!(host.run(&slow, 100, stop.clone()), async move { flag.store(true, Ordering::Relaxed) });
    assert_eq!(out.status, ToolCallStatus::Stopped, "{out:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "stopped at once");
    host.close().await;
}

/// Tools whose calls wait for an answer given elsewhere (as the app's page gives it).
fn asked_elsewhere(server: McpServer, pending: Arc<PendingApprovals>) -> McpTools {
    McpTools::new(vec![Arc::new(server)], Box::new(move |call: &ToolCallRecord| pending.clone().ask(call.id.clone())))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_is_told_which_call_waits_and_stop_while_it_waits_runs_nothing() {
    let (_dir, store, engine) = setup().await;
    let pending = Arc::new(PendingApprovals::default());
    let host = asked_elsewhere(everything().await, pending.clone());

    // Answered as the event arrives (the wait began before it was sent): the call runs.
    let (mut events, mut waited) = (Vec::new(), Vec::new());
    run_turn_with_tools(
        &store,
        &engine,
        ask("Echo the word harbour with the echo tool."),
        Some(&host),
        None,
        |_| {},
        |e| {
            if let TurnEvent::ToolApproval { call_id } = &e {
                waited.push(call_id.clone());
                assert!(pending.answer(call_id, Approval::Once), "the call waits when the page hears of it");
            }
            events.push(e);
            true
        },
    )
    .await
    .unwrap();
    let shape = common::shape(&events);
    assert!(shape.starts_with("sdcauo"), "asked, then run: {shape}");
    let calls: usize =
        events.iter().map(|e| if let TurnEvent::ToolCalls { calls, .. } = e { calls.len() } else { 0 }).sum();
    assert_eq!(waited.len(), calls, "each call waited for its answer");
    assert!(pending.waiting().is_empty());

    // Stopped while the user is asked: nothing runs, the turn ends without going on.
    let stop: Arc<Mutex<Option<Arc<AtomicBool>>>> = Arc::default();
    let mut events = Vec::new();
    let set = stop.clone();
    run_turn_with_tools(
        &store,
        &engine,
        ask("Echo the word harbour with the echo tool."),
        Some(&host),
        None,
        move |flag| *set.lock().unwrap() = Some(flag),
        |e| {
            if matches!(e, TurnEvent::ToolApproval { .. }) {
                stop.lock().unwrap().as_ref().unwrap().store(true, Ordering::Relaxed);
            }
            events.push(e);
            true
        },
    )
    .await
    .unwrap();
    let shape = common::shape(&events);
    assert!(shape.starts_with("sdcao") && !shape.contains('u') && !shape.contains('n'), "{shape}");
    let stopped = events
        .iter()
        .find_map(|e| if let TurnEvent::ToolResult { result, .. } = e { Some(result.clone()) } else { None })
        .unwrap();
    assert_eq!(stopped.status, ToolCallStatus::Stopped);
    assert!(pending.waiting().is_empty(), "a wait given up is forgotten");
    host.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_crashes_or_hangs_gives_the_chat_a_failed_call_that_says_why() {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/mcp/hostile_server.py");
    let entry = ServerEntry::Stdio {
        command: fixtures().join("venv/bin/python").to_string_lossy().into_owned(),
        args: vec![script.to_string_lossy().into_owned(), "normal".into()],
        env: BTreeMap::new(),
        cwd: None,
    };
    let limits = McpLimits { call: std::time::Duration::from_secs(2), ..McpLimits::default() };
    let server = McpServer::connect("hostile", &entry, limits).await.expect("its handshake is proper");
    let host = tools(server, Approval::Once, Arc::default());
    let call = |name: &str| ToolCallRecord {
        id: format!("call_{name}"),
        name: name.into(),
        server: Some("hostile".into()),
        arguments: "{}".into(),
        result: None,
    };
    let stop = Arc::new(AtomicBool::new(false));
    // Hangs: the call's time limit ends it, with why.
    let hung = host.run(&call("hang"), 1000, stop.clone()).await;
    assert_eq!(hung.status, ToolCallStatus::Failed);
    assert!(hung.text.contains("hostile did not answer the call to hang within 2 s"), "{}", hung.text);
    // Garbage instead of an answer: the same, and the turn goes on.
    assert_eq!(host.run(&call("garbage"), 1000, stop.clone()).await.status, ToolCallStatus::Failed);
    // 10 MB: cut to what the context has left, with the note.
    let huge = host.run(&call("huge"), 1000, stop.clone()).await;
    assert_eq!((huge.status, huge.cut_from), (ToolCallStatus::Done, Some(10_000_000)));
    assert!(huge.text.len() < 1300, "{}", huge.text.len());
    // Crashes mid-call: failed, quoting what it wrote; later calls fail at once, clearly.
    let crashed = host.run(&call("crash"), 1000, stop.clone()).await;
    assert_eq!(crashed.status, ToolCallStatus::Failed);
    assert!(crashed.text.contains("segmentation fault"), "{}", crashed.text);
    let after = host.run(&call("fails"), 1000, stop).await;
    assert_eq!(after.status, ToolCallStatus::Failed, "{}", after.text);
    host.close().await;
}
