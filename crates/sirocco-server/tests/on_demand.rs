//! Several models through one host: a request names a library model, the server loads it
//! (once, however many ask at the same time) with that model's own settings beside the models
//! loaded already; the least recently used idle model the server loaded makes room when the
//! host's limits say so; the user's models and models answering are never unloaded under a
//! request; idle models go. Real models, real HTTP on loopback.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use sirocco_engine::FinishReason;
use sirocco_engine::{ChatMessage, GenerateRequest, GenerationEvent, LoadParams, Role, SamplingParams};
use sirocco_host::{HostConfig, HostEvent, LoadedBy, ModelHost, ModelSpec, UnloadReason};
use sirocco_server::{CatalogModel, OnDemand, RunningServer, ServerConfig};
use tokio::sync::broadcast;

const SMOLLM2: &str = "SmolLM2-135M-Instruct.Q4_1";
const CODER: &str = "tiny-coder-fim";

fn fixtures() -> PathBuf {
    std::env::var_os("SIROCCO_FIXTURES").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/sirocco/fixtures")
    })
}

fn spec(id: &str, context: u32) -> ModelSpec {
    ModelSpec {
        id: id.into(),
        path: fixtures().join(format!("{id}.gguf")),
        // Each model's own saved settings.
        params: LoadParams { context_length: Some(context), ..LoadParams::default() },
    }
}

fn library() -> Vec<CatalogModel> {
    vec![spec(SMOLLM2, 1024), spec(CODER, 512)]
}

struct Served {
    server: RunningServer,
    host: ModelHost,
    events: broadcast::Receiver<HostEvent>,
}

impl Served {
    /// Every load and unload since the last call (each is sent before the request that caused
    /// it is answered).
    fn events(&mut self) -> Vec<HostEvent> {
        std::iter::from_fn(|| self.events.try_recv().ok()).collect()
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.addr)
    }
}

async fn serve(config: HostConfig, idle_unload: Option<Duration>, extra: Vec<CatalogModel>) -> Served {
    serve_host(ModelHost::new(config), idle_unload, extra).await
}

async fn serve_host(host: ModelHost, idle_unload: Option<Duration>, extra: Vec<CatalogModel>) -> Served {
    let on_demand = OnDemand {
        catalog: Arc::new(move || {
            let models: Vec<CatalogModel> = library().into_iter().chain(extra.clone()).collect();
            Box::pin(async move { models })
        }),
        idle_unload,
    };
    let events = host.events();
    let config =
        ServerConfig { addr: "127.0.0.1:0".parse().unwrap(), on_demand: Some(on_demand), ..ServerConfig::default() };
    let server = sirocco_server::start(config, host.clone()).await.unwrap();
    Served { server, host, events }
}

fn loaded(id: &str, by: LoadedBy) -> HostEvent {
    HostEvent::Loaded { id: id.into(), loaded_by: by }
}

async fn chat(http: &reqwest::Client, served: &Served, model: &str, text: &str, max_tokens: u32) -> (u16, Value) {
    let body = json!({ "model": model, "messages": [{"role": "user", "content": text}], "max_tokens": max_tokens, "temperature": 0 });
    let response = http.post(served.url("/v1/chat/completions")).json(&body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn fim(http: &reqwest::Client, served: &Served, model: &str, prefix: &str, suffix: &str) -> (u16, Value) {
    let body = json!({ "model": model, "prompt": prefix, "suffix": suffix, "max_tokens": 6, "temperature": 0 });
    let response = http.post(served.url("/v1/completions")).json(&body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn chat_text(body: &Value) -> String {
    body["choices"][0]["message"]["content"].as_str().unwrap_or_else(|| panic!("an answer: {body}")).to_owned()
}

fn fim_text(body: &Value) -> String {
    body["choices"][0]["text"].as_str().unwrap_or_else(|| panic!("a completion: {body}")).to_owned()
}

async fn health(http: &reqwest::Client, served: &Served) -> Value {
    http.get(served.url("/health")).send().await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_library_model_is_loaded_once_with_its_own_settings() {
    let mut served = serve(HostConfig::default(), None, Vec::new()).await;
    let http = reqwest::Client::new();

    let models: Value = http.get(served.url("/v1/models")).send().await.unwrap().json().await.unwrap();
    let ids: Vec<&str> = models["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [SMOLLM2, CODER], "the library is listed before anything is loaded");
    assert_eq!(health(&http, &served).await["model"], Value::Null);

    // Nothing loaded and no model named: a clear 503 saying how to get one.
    let anonymous = json!({ "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2 });
    let response = http.post(served.url("/v1/chat/completions")).json(&anonymous).send().await.unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.text().await.unwrap().contains("name one of GET /v1/models"));

    // Four clients ask for the same model at once: one load.
    let answers = futures_util::future::join_all((0..4).map(|_| chat(&http, &served, SMOLLM2, "Hi", 4))).await;
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body["model"], SMOLLM2);
    }
    assert_eq!(served.events(), [loaded(SMOLLM2, LoadedBy::Server)], "loaded once");
    let resident = served.host.resident();
    assert_eq!(resident[0].model.as_ref().unwrap().context_length, 1024, "with its own context length");
    assert_eq!(health(&http, &served).await["model"], SMOLLM2);

    // Another model: loaded beside the first, with its settings.
    let (status, body) = chat(&http, &served, CODER, "Hi", 2).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(served.events(), [loaded(CODER, LoadedBy::Server)], "nothing unloaded");
    let contexts: Vec<u32> = served.host.resident().iter().map(|m| m.model.as_ref().unwrap().context_length).collect();
    assert_eq!(contexts, [1024, 512]);
    assert_eq!(health(&http, &served).await["models"], json!([SMOLLM2, CODER]));

    // A model outside the library: 404 naming what there is.
    let (status, body) = chat(&http, &served, "gpt-4o", "Hi", 2).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "model_not_found");
    assert!(body["error"]["message"].as_str().unwrap().contains(SMOLLM2), "{body}");
    served.server.stop().await;
}

/// Continue's day: a chat client and an autocomplete client (fill-in-the-middle), interleaved,
/// each on its own model. Both stay loaded: two loads in all, and every answer is the one that
/// model gives when it is alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_and_autocomplete_clients_interleaved_keep_both_models_loaded() {
    let mut served = serve(HostConfig::default(), None, Vec::new()).await;
    let http = reqwest::Client::new();
    let questions = ["What is the capital of France?", "Name a colour."];
    let code = [("def add(a, b):\n    return ", "\n\nprint(add(1, 2))\n"), ("for i in range(", "):\n    print(i)\n")];

    // Each model alone first: the answers to expect.
    let mut expected_chat = Vec::new();
    for q in questions {
        let (status, body) = chat(&http, &served, SMOLLM2, q, 12).await;
        assert_eq!(status, 200, "{body}");
        expected_chat.push(chat_text(&body));
    }
    served.host.unload(SMOLLM2).await.unwrap();
    let mut expected_fim = Vec::new();
    for (prefix, suffix) in code {
        let (status, body) = fim(&http, &served, CODER, prefix, suffix).await;
        assert_eq!(status, 200, "{body}");
        expected_fim.push(fim_text(&body));
    }
    served.events();

    // Then the two clients at once, 20 requests each.
    let chat_client = async {
        for i in 0..20 {
            let (status, body) = chat(&http, &served, SMOLLM2, questions[i % 2], 12).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(chat_text(&body), expected_chat[i % 2], "chat answer {i}");
        }
    };
    let autocomplete_client = async {
        for i in 0..20 {
            let (prefix, suffix) = code[i % 2];
            let (status, body) = fim(&http, &served, CODER, prefix, suffix).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(fim_text(&body), expected_fim[i % 2], "completion {i}");
        }
    };
    tokio::join!(chat_client, autocomplete_client);
    assert_eq!(
        served.events(),
        [loaded(SMOLLM2, LoadedBy::Server)],
        "one more load (the chat model again), nothing unloaded"
    );
    assert_eq!(served.host.loaded_ids(), [CODER, SMOLLM2]);
    served.server.stop().await;
}

/// Room for one model only: the server's idle model makes room for the next one (reported),
/// but a model the user loaded, answering in the app, is never unloaded for a request — the
/// request gets a clear 503 naming it, and the user's answer runs to its end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_room_for_one_the_least_recently_used_server_model_makes_room() {
    let mut served = serve(HostConfig { max_models: Some(1), ..HostConfig::default() }, None, Vec::new()).await;
    let http = reqwest::Client::new();
    assert_eq!(chat(&http, &served, SMOLLM2, "Hi", 2).await.0, 200);
    assert_eq!(fim(&http, &served, CODER, "x = ", "\n").await.0, 200);
    assert_eq!(
        served.events(),
        [
            loaded(SMOLLM2, LoadedBy::Server),
            HostEvent::Unloaded { id: SMOLLM2.into(), reason: UnloadReason::Evicted { for_model: CODER.into() } },
            loaded(CODER, LoadedBy::Server),
        ]
    );

    // The user loads SmolLM2 in the app (it replaces the server's idle model) and an answer runs.
    let host = served.host.clone();
    host.load(spec(SMOLLM2, 1024), LoadedBy::User, |_| {}, Arc::new(AtomicBool::new(false))).await.unwrap();
    let lease = host.lease(SMOLLM2).await.unwrap();
    let sampling = SamplingParams { temperature: 0.0, max_tokens: 64, ignore_eos: true, ..SamplingParams::default() };
    let mut answer = lease
        .engine()
        .generate(GenerateRequest::new(vec![ChatMessage::new(Role::User, "Tell me a story.")], sampling))
        .unwrap();
    assert!(matches!(answer.events.recv().await, Some(GenerationEvent::Text { .. })), "the answer has begun");

    let (status, body) = fim(&http, &served, CODER, "x = ", "\n").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "model_no_room");
    assert!(body["error"]["message"].as_str().unwrap().contains(SMOLLM2), "names the model in the way: {body}");
    let stats = loop {
        match answer.events.recv().await.expect("the answer ends with its stats") {
            GenerationEvent::Done { stats } => break stats,
            GenerationEvent::Error { message, .. } => panic!("the answer was cut off: {message}"),
            _ => {}
        }
    };
    assert_eq!((stats.finish_reason, stats.generated_tokens), (FinishReason::Length, 64), "the answer ran to its end");
    drop(lease);
    assert_eq!(
        served.events(),
        [
            HostEvent::Unloaded { id: CODER.into(), reason: UnloadReason::Evicted { for_model: SMOLLM2.into() } },
            loaded(SMOLLM2, LoadedBy::User),
        ]
    );
    served.server.stop().await;
}

/// A request waits for a busy server model to finish instead of cutting it off; with one model
/// of room, the stream on the old model runs to its end, then the other model loads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_that_needs_a_busy_models_room_waits_for_its_streams() {
    let mut served = serve(HostConfig { max_models: Some(1), ..HostConfig::default() }, None, Vec::new()).await;
    let http = reqwest::Client::new();
    let stream_body = json!({
        "model": SMOLLM2, "stream": true, "max_tokens": 48, "ignore_eos": true,
        "messages": [{"role": "user", "content": "Tell me a story."}]
    });
    let mut stream = http.post(served.url("/v1/chat/completions")).json(&stream_body).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let first = stream.chunk().await.unwrap().expect("the stream has begun");
    let switch = tokio::spawn({
        let (http, url) = (http.clone(), served.url("/v1/completions"));
        async move {
            let body = json!({ "model": CODER, "prompt": "x = ", "suffix": "\n", "max_tokens": 2 });
            http.post(url).json(&body).send().await.unwrap().status().as_u16()
        }
    });
    let mut text = String::from_utf8_lossy(&first).into_owned();
    while let Some(chunk) = stream.chunk().await.unwrap() {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.ends_with("data: [DONE]\n\n"), "the stream ran to its end: {text}");
    assert!(text.contains(r#""finish_reason":"length""#) && !text.contains(r#""error""#), "{text}");
    assert_eq!(switch.await.unwrap(), 200);
    assert_eq!(
        served.events(),
        [
            loaded(SMOLLM2, LoadedBy::Server),
            HostEvent::Unloaded { id: SMOLLM2.into(), reason: UnloadReason::Evicted { for_model: CODER.into() } },
            loaded(CODER, LoadedBy::Server),
        ]
    );
    served.server.stop().await;
}

/// Ejecting a model while it answers: the answer finishes, then the model goes; requests that
/// come meanwhile are not let in on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eject_during_an_answer_waits_for_the_answer() {
    let mut served = serve(HostConfig::default(), None, Vec::new()).await;
    let host = served.host.clone();
    host.load(spec(SMOLLM2, 1024), LoadedBy::User, |_| {}, Arc::new(AtomicBool::new(false))).await.unwrap();
    let lease = host.lease(SMOLLM2).await.unwrap();
    let sampling = SamplingParams { temperature: 0.0, max_tokens: 48, ignore_eos: true, ..SamplingParams::default() };
    let mut answer = lease
        .engine()
        .generate(GenerateRequest::new(vec![ChatMessage::new(Role::User, "Tell me a story.")], sampling))
        .unwrap();
    let eject = tokio::spawn({
        let host = host.clone();
        async move { host.unload(SMOLLM2).await }
    });
    // The eject has marked it going: a new lease is refused once it is gone.
    let mut resident = host.subscribe();
    resident.wait_for(|m| m.iter().any(|m| m.status == sirocco_host::ModelStatus::Unloading)).await.unwrap();
    let stats = loop {
        match answer.events.recv().await.expect("the answer ends with its stats") {
            GenerationEvent::Done { stats } => break stats,
            GenerationEvent::Error { message, .. } => panic!("the answer was cut off: {message}"),
            _ => {}
        }
    };
    assert_eq!(stats.generated_tokens, 48);
    assert!(!eject.is_finished(), "the eject waits while the answer's lease is held");
    drop(lease);
    eject.await.unwrap().unwrap();
    assert!(host.resident().is_empty());
    assert!(matches!(host.lease(SMOLLM2).await, Err(sirocco_host::HostError::NotLoaded { .. })));
    let events = served.events();
    assert_eq!(
        events.last(),
        Some(&HostEvent::Unloaded { id: SMOLLM2.into(), reason: UnloadReason::Asked }),
        "{events:?}"
    );
    served.server.stop().await;
}

/// The app loads a model while a request makes the server load another, and two loads of the
/// same file run at once: each model is loaded once, both answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loads_at_the_same_time_each_load_their_model_once() {
    let mut served = serve(HostConfig::default(), None, Vec::new()).await;
    let http = reqwest::Client::new();
    let host = served.host.clone();
    let user_load = |host: ModelHost| async move {
        host.load(spec(SMOLLM2, 1024), LoadedBy::User, |_| {}, Arc::new(AtomicBool::new(false))).await
    };
    let (a, b, request) =
        tokio::join!(user_load(host.clone()), user_load(host.clone()), fim(&http, &served, CODER, "x = ", "\n"));
    a.unwrap();
    b.unwrap();
    assert_eq!(request.0, 200, "{}", request.1);
    let mut events = served.events();
    events.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(events, [loaded(SMOLLM2, LoadedBy::User), loaded(CODER, LoadedBy::Server)]);
    assert_eq!(chat(&http, &served, SMOLLM2, "Hi", 2).await.0, 200);
    served.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_model_is_unloaded_and_comes_back_when_named() {
    let mut served = serve(HostConfig::default(), Some(Duration::from_millis(300)), Vec::new()).await;
    let http = reqwest::Client::new();
    assert_eq!(chat(&http, &served, SMOLLM2, "Hi", 2).await.0, 200);
    // The user's own model stays however idle it is.
    let host = served.host.clone();
    host.load(spec(CODER, 512), LoadedBy::User, |_| {}, Arc::new(AtomicBool::new(false))).await.unwrap();
    // Waits for exactly the coder: on a busy machine SmolLM2 may idle out while the coder is
    // still loading, so neither "one model" nor the order of the two events is the point.
    let mut resident = host.subscribe();
    tokio::time::timeout(Duration::from_secs(20), resident.wait_for(|m| m.len() == 1 && m[0].id == CODER))
        .await
        .expect("the idle model was never unloaded")
        .unwrap();
    assert_eq!(host.loaded_ids(), [CODER]);
    let mut events = served.events();
    events.sort_by_key(|e| format!("{e:?}"));
    let mut expected = [
        loaded(SMOLLM2, LoadedBy::Server),
        loaded(CODER, LoadedBy::User),
        HostEvent::Unloaded { id: SMOLLM2.into(), reason: UnloadReason::Idle },
    ];
    expected.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(events, expected);
    let (status, body) = chat(&http, &served, SMOLLM2, "Hi", 2).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(served.events(), [loaded(SMOLLM2, LoadedBy::Server)]);
    served.server.stop().await;
}

/// A library file that does not load: a clear 503, the models loaded stay, and the next request
/// for a good model is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_fails_to_load_leaves_a_clear_error_and_a_usable_server() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.gguf");
    std::fs::write(&broken, b"GGUF\x03\0\0\0 not really a model").unwrap();
    let extra = vec![CatalogModel { id: "broken".into(), path: broken, params: LoadParams::default() }];
    let mut served = serve(HostConfig::default(), None, extra).await;
    let http = reqwest::Client::new();
    assert_eq!(chat(&http, &served, SMOLLM2, "Hi", 2).await.0, 200);
    let (status, body) = chat(&http, &served, "broken", "Hi", 2).await;
    assert_eq!(status, 503, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().starts_with("Could not load broken:"), "{body}");
    assert_eq!(health(&http, &served).await["models"], json!([SMOLLM2]), "what was loaded stays");
    assert!(matches!(served.events().last(), Some(HostEvent::LoadFailed { id, .. }) if id == "broken"));
    assert_eq!(chat(&http, &served, SMOLLM2, "Hi", 2).await.0, 200);
    served.server.stop().await;
}

/// llama.cpp's router endpoints, through curl: each model's status, load, unload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_endpoints_list_load_and_unload_models() {
    let mut served = serve(HostConfig::default(), None, Vec::new()).await;
    let curl = |args: Vec<String>| async move {
        let out = tokio::process::Command::new("curl")
            .args(["-sS", "-w", "\n%{http_code}"])
            .args(args)
            .output()
            .await
            .expect("curl runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').expect("a status line");
        (code.parse::<u16>().unwrap(), serde_json::from_str::<Value>(body).unwrap_or(Value::Null))
    };
    let post = |path: &str, model: &str| {
        vec![
            served.url(path),
            "-H".into(),
            "Content-Type: application/json".into(),
            "-d".into(),
            json!({ "model": model }).to_string(),
        ]
    };
    let statuses = |listing: &Value| -> Vec<(String, String)> {
        listing["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["id"].as_str().unwrap().into(), m["status"]["value"].as_str().unwrap().into()))
            .collect()
    };
    let (code, listing) = curl(vec![served.url("/models")]).await;
    assert_eq!(code, 200);
    assert_eq!(statuses(&listing), [(SMOLLM2.into(), "unloaded".into()), (CODER.into(), "unloaded".into())]);

    let (code, body) = curl(post("/models/load", CODER)).await;
    assert_eq!((code, &body), (200, &json!({ "success": true })));
    let (_, listing) = curl(vec![served.url("/models")]).await;
    assert_eq!(statuses(&listing), [(CODER.into(), "loaded".into()), (SMOLLM2.into(), "unloaded".into())]);
    let coder = &listing["data"][0]["sirocco"];
    assert_eq!(
        (coder["loaded_by"].as_str(), coder["in_use"].as_u64(), coder["context_length"].as_u64()),
        (Some("server"), Some(0), Some(512))
    );
    assert!(coder["ram_bytes"].as_u64().unwrap() > 1_000_000, "{coder}");

    let (code, body) = curl(post("/models/load", "gpt-4o")).await;
    assert_eq!((code, body["error"]["code"].as_str()), (404, Some("model_not_found")));
    let (code, body) = curl(post("/models/unload", SMOLLM2)).await;
    assert_eq!(code, 404, "not loaded: {body}");
    let (code, _) = curl(post("/models/unload", CODER)).await;
    assert_eq!(code, 200);
    assert!(served.host.resident().is_empty());
    assert_eq!(
        served.events(),
        [loaded(CODER, LoadedBy::Server), HostEvent::Unloaded { id: CODER.into(), reason: UnloadReason::Asked }]
    );
    served.server.stop().await;
}

/// The same endpoints through the official `openai` client's raw HTTP calls (what a tool
/// without a method for them does): tests/server/openai_router.py.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_endpoints_through_the_openai_clients_raw_http() {
    let mut served = serve(HostConfig::default(), None, Vec::new()).await;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/server/openai_router.py");
    let out = tokio::process::Command::new(fixtures().join("venv/bin/python"))
        .arg(script)
        .args([served.url(""), SMOLLM2.into(), CODER.into()])
        .output()
        .await
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("all checks passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        served.events(),
        [loaded(SMOLLM2, LoadedBy::Server), HostEvent::Unloaded { id: SMOLLM2.into(), reason: UnloadReason::Asked }]
    );
    served.server.stop().await;
}

/// A name of no model of ours (a client with a fixed name: `gpt-4o`, `claude-*`) gets the one
/// model the user loaded, and the answer says which; with two of theirs, or none, it is a 404
/// listing what a request may name — the user's models (opened from outside the library) and
/// the library's. Loading through the router never guesses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_of_no_model_of_ours_gets_the_users_one_model_else_a_404_listing_them() {
    let served = serve(HostConfig::default(), None, Vec::new()).await;
    let opened = "tiny-mistral-7b-shape";
    served.host.load(spec(opened, 512), LoadedBy::User, |_| {}, Arc::new(AtomicBool::new(false))).await.unwrap();
    let http = reqwest::Client::new();

    let (status, body) = chat(&http, &served, "gpt-4o", "Hi", 2).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["model"], opened, "the answer names the model that gave it");

    let response =
        http.post(served.url("/models/load")).json(&json!({ "model": "no-such-model" })).send().await.unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains(opened), "{body}");

    // Two of the user's: which one is not a guess to make.
    served.host.load(spec(CODER, 512), LoadedBy::User, |_| {}, Arc::new(AtomicBool::new(false))).await.unwrap();
    let (status, body) = chat(&http, &served, "no-such-model", "Hi", 2).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "model_not_found");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(opened) && message.contains(CODER), "the loaded models are listed: {message}");
    assert!(message.contains(SMOLLM2), "and the library: {message}");
    served.server.stop().await;
}

/// A client's `num_ctx` and `keep_alive` (Ollama's) move only models the server loaded: the
/// user's model answers with its own context and stays, and the host's reload never takes it
/// (even asked directly, as when it became the user's while a reload waited). A model the
/// server loaded is loaded again with the context asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clients_num_ctx_and_keep_alive_never_move_the_users_model() {
    let mut served = serve(HostConfig::default(), None, Vec::new()).await;
    let host = served.host.clone();
    host.load(spec(SMOLLM2, 1024), LoadedBy::User, |_| {}, Arc::new(AtomicBool::new(false))).await.unwrap();
    let http = reqwest::Client::new();
    let generate = |model: &str, num_ctx: u32| {
        json!({ "model": model, "prompt": "def f():", "raw": true, "stream": false, "keep_alive": 0,
                "options": { "num_predict": 2, "num_ctx": num_ctx } })
    };
    let context_of =
        |id: &str| host.resident().into_iter().find(|r| r.id == id).and_then(|r| r.model.map(|m| m.context_length));
    let answer = http.post(served.url("/api/generate")).json(&generate(SMOLLM2, 512)).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    // Directly too: a reload for the server's settings leases the user's model as it is.
    let lease = host.lease_or_reload(spec(SMOLLM2, 512)).await.unwrap();
    assert_eq!(lease.model().context_length, 1024);
    drop(lease);
    // The server's own model is loaded with the context asked, then again with another
    // (multiples of 256: llama.cpp rounds a context up to one).
    for n_ctx in [256, 512] {
        let body = json!({ "model": CODER, "prompt": "def f():", "raw": true, "stream": false,
                           "options": { "num_predict": 2, "num_ctx": n_ctx } });
        assert_eq!(http.post(served.url("/api/generate")).json(&body).send().await.unwrap().status(), 200);
        assert_eq!(context_of(CODER), Some(n_ctx));
    }
    // keep_alive 0 set nothing on the user's model (the idle unloader has nothing to act on).
    assert_eq!(context_of(SMOLLM2), Some(1024), "the user's model keeps its context and stays");
    let users = host.resident().into_iter().find(|r| r.id == SMOLLM2).unwrap();
    assert_eq!(users.keep, sirocco_host::KeepAlive::Default);
    let events = served.events();
    assert!(
        !events.iter().any(|e| matches!(e, HostEvent::Unloaded { id, .. } if id == SMOLLM2)),
        "the user's model never went: {events:?}"
    );
    assert!(
        events.iter().any(|e| matches!(e, HostEvent::Unloaded { id, reason: UnloadReason::Replaced } if id == CODER)),
        "the server's model was loaded again with the new context: {events:?}"
    );
    served.server.stop().await;
}
