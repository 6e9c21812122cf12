//! Loading on demand: a request names a library model, the server loads it (once, however many
//! ask at the same time) with that model's own settings, a switch waits for the requests on the
//! old model, and an idle model is unloaded. Real models, real HTTP on loopback.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use sirocco_engine::engine::FinishReason;
use sirocco_engine::{ChatMessage, Engine, GenerateRequest, GenerationEvent, LoadParams, Role, SamplingParams};
use sirocco_server::{CatalogModel, OnDemand, RunningServer, ServedModel, ServerConfig};

const SMOLLM2: &str = "SmolLM2-135M-Instruct.Q4_1";
const CODER: &str = "tiny-coder-fim";

fn fixtures() -> PathBuf {
    std::env::var_os("SIROCCO_FIXTURES").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/sirocco/fixtures")
    })
}

/// Every load and unload the server reported.
type Changes = Arc<Mutex<Vec<Option<ServedModel>>>>;

async fn serve(idle_unload: Option<Duration>) -> (RunningServer, Changes) {
    serve_with(idle_unload, Vec::new()).await
}

async fn serve_with(idle_unload: Option<Duration>, extra: Vec<CatalogModel>) -> (RunningServer, Changes) {
    serve_engine(Engine::start(), idle_unload, extra).await
}

async fn serve_engine(engine: Engine, idle_unload: Option<Duration>, extra: Vec<CatalogModel>) -> (RunningServer, Changes) {
    let changes: Changes = Arc::default();
    let seen = changes.clone();
    let on_demand = OnDemand {
        catalog: Arc::new(move || {
            let extra = extra.clone();
            Box::pin(async move {
                [(SMOLLM2, 1024), (CODER, 512)]
                    .into_iter()
                    .map(|(id, context)| CatalogModel {
                        id: id.into(),
                        path: fixtures().join(format!("{id}.gguf")),
                        // Each model's own saved settings.
                        params: LoadParams { context_length: Some(context), ..LoadParams::default() },
                    })
                    .chain(extra)
                    .collect()
            })
        }),
        idle_unload,
        on_change: Some(Arc::new(move |m: Option<sirocco_server::LoadedOnDemand>| seen.lock().unwrap().push(m.map(|m| m.served)))),
    };
    let config = ServerConfig { addr: "127.0.0.1:0".parse().unwrap(), on_demand: Some(on_demand), ..ServerConfig::default() };
    let server = sirocco_server::start(config, engine, None).await.unwrap();
    (server, changes)
}

async fn chat(http: &reqwest::Client, server: &RunningServer, model: &str, max_tokens: u32) -> (u16, Value) {
    let body = json!({ "model": model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": max_tokens, "temperature": 0 });
    let response = http.post(format!("http://{}/v1/chat/completions", server.addr)).json(&body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn health(http: &reqwest::Client, server: &RunningServer) -> Value {
    http.get(format!("http://{}/health", server.addr)).send().await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_library_model_is_loaded_once_with_its_own_settings() {
    let (server, changes) = serve(None).await;
    let http = reqwest::Client::new();

    let models: Value = http.get(format!("http://{}/v1/models", server.addr)).send().await.unwrap().json().await.unwrap();
    let ids: Vec<&str> = models["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [SMOLLM2, CODER], "the library is listed before anything is loaded");
    assert_eq!(health(&http, &server).await["model"], Value::Null);

    // Nothing loaded and no model named: a clear 503 saying how to get one.
    let anonymous = json!({ "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2 });
    let response = http.post(format!("http://{}/v1/chat/completions", server.addr)).json(&anonymous).send().await.unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.text().await.unwrap().contains("name one of GET /v1/models"));

    // Four clients ask for the same model at once: one load.
    let answers = futures_util::future::join_all((0..4).map(|_| chat(&http, &server, SMOLLM2, 4))).await;
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body["model"], SMOLLM2);
    }
    {
        let changes = changes.lock().unwrap();
        assert_eq!(changes.len(), 1, "loaded once: {changes:?}");
        let loaded = changes[0].as_ref().unwrap();
        assert_eq!((loaded.id.as_str(), loaded.context_length), (SMOLLM2, 1024), "with its own context length");
    }
    assert_eq!(health(&http, &server).await["model"], SMOLLM2);

    // Another model: switched to, with its settings.
    let (status, body) = chat(&http, &server, CODER, 2).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(changes.lock().unwrap().last().unwrap().as_ref().map(|m| m.context_length), Some(512));

    // A model outside the library: 404 naming what there is.
    let (status, body) = chat(&http, &server, "gpt-4o", 2).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "model_not_found");
    assert!(body["error"]["message"].as_str().unwrap().contains(SMOLLM2), "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_switch_waits_for_the_streams_on_the_old_model() {
    let (server, changes) = serve(None).await;
    let http = reqwest::Client::new();
    let (status, _) = chat(&http, &server, SMOLLM2, 2).await;
    assert_eq!(status, 200);

    // A long stream on SmolLM2 is under way when a request for the other model arrives.
    let stream_body = json!({
        "model": SMOLLM2, "stream": true, "max_tokens": 48, "ignore_eos": true,
        "messages": [{"role": "user", "content": "Tell me a story."}]
    });
    let mut stream = http.post(format!("http://{}/v1/chat/completions", server.addr)).json(&stream_body).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let first = stream.chunk().await.unwrap().expect("the stream has begun");
    let switch = tokio::spawn({
        let (http, addr) = (http.clone(), server.addr);
        async move {
            let body = json!({ "model": CODER, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2 });
            http.post(format!("http://{addr}/v1/chat/completions")).json(&body).send().await.unwrap().status().as_u16()
        }
    });
    let mut text = String::from_utf8_lossy(&first).into_owned();
    while let Some(chunk) = stream.chunk().await.unwrap() {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.ends_with("data: [DONE]\n\n"), "the stream ran to its end: {text}");
    assert!(text.contains(r#""finish_reason":"length""#) && !text.contains(r#""error""#), "{text}");
    assert_eq!(switch.await.unwrap(), 200);
    let ids: Vec<_> = changes.lock().unwrap().iter().map(|m| m.as_ref().map(|m| m.id.clone())).collect();
    assert_eq!(ids, [Some(SMOLLM2.to_string()), Some(CODER.to_string())]);
    server.stop().await;
}

/// The app's own chat runs on the engine, not through the server: it holds the model, so a
/// request that names another model waits for the in-app answer instead of cutting it off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_switch_waits_for_an_answer_in_the_app() {
    let engine = Engine::start();
    let (server, changes) = serve_engine(engine.clone(), None, Vec::new()).await;
    let http = reqwest::Client::new();
    assert_eq!(chat(&http, &server, SMOLLM2, 2).await.0, 200);

    let hold = server.hold_model().await;
    let sampling = SamplingParams { temperature: 0.0, max_tokens: 96, ignore_eos: true, ..SamplingParams::default() };
    let mut answer = engine.generate(GenerateRequest::new(vec![ChatMessage::new(Role::User, "Tell me a story.")], sampling)).unwrap();
    let first = answer.events.recv().await.expect("the answer has begun");
    assert!(matches!(first, GenerationEvent::Text { .. }), "{first:?}");
    let switch = tokio::spawn({
        let (http, addr) = (http.clone(), server.addr);
        async move {
            let body = json!({ "model": CODER, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2 });
            http.post(format!("http://{addr}/v1/chat/completions")).json(&body).send().await.unwrap().status().as_u16()
        }
    });
    let stats = loop {
        match answer.events.recv().await.expect("the answer ends with its stats") {
            GenerationEvent::Done { stats } => break stats,
            GenerationEvent::Error { message, .. } => panic!("the answer was cut off: {message}"),
            _ => {}
        }
    };
    assert_eq!(stats.finish_reason, FinishReason::Length, "the answer ran to its end");
    assert_eq!(stats.generated_tokens, 96);
    drop(hold);
    assert_eq!(switch.await.unwrap(), 200, "the switch happened after the answer");
    let ids: Vec<_> = changes.lock().unwrap().iter().map(|m| m.as_ref().map(|m| m.id.clone())).collect();
    assert_eq!(ids, [Some(SMOLLM2.to_string()), Some(CODER.to_string())]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_model_is_unloaded_and_comes_back_when_named() {
    let (server, changes) = serve(Some(Duration::from_millis(300))).await;
    let http = reqwest::Client::new();
    let (status, _) = chat(&http, &server, SMOLLM2, 2).await;
    assert_eq!(status, 200);
    // Wait for the unload, with a deadline.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while health(&http, &server).await["model"] != Value::Null {
        assert!(std::time::Instant::now() < deadline, "the idle model was never unloaded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(changes.lock().unwrap().last(), Some(&None), "the app is told");
    let (status, body) = chat(&http, &server, SMOLLM2, 2).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(changes.lock().unwrap().len(), 3, "loaded, unloaded, loaded again");
    server.stop().await;
}

/// A library file that does not load: a clear 503, the server says nothing is loaded (the old
/// model went first), and the next request for a good model loads it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_fails_to_load_leaves_a_clear_error_and_a_usable_server() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.gguf");
    std::fs::write(&broken, b"GGUF\x03\0\0\0 not really a model").unwrap();
    let extra = vec![CatalogModel { id: "broken".into(), path: broken, params: LoadParams::default() }];
    let (server, changes) = serve_with(None, extra).await;
    let http = reqwest::Client::new();
    assert_eq!(chat(&http, &server, SMOLLM2, 2).await.0, 200);
    let (status, body) = chat(&http, &server, "broken", 2).await;
    assert_eq!(status, 503, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().starts_with("Could not load broken:"), "{body}");
    assert_eq!(health(&http, &server).await["model"], Value::Null);
    assert_eq!(changes.lock().unwrap().last(), Some(&None), "the app is told nothing is loaded");
    assert_eq!(chat(&http, &server, SMOLLM2, 2).await.0, 200);
    assert_eq!(health(&http, &server).await["model"], SMOLLM2);
    server.stop().await;
}
