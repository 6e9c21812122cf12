//! The server on a real model (SmolLM2) over real HTTP on loopback: the official `openai`
//! Python client (tests/server/openai_client.py), SSE framing byte for byte, and hostile requests.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use sirocco_engine::LoadParams;
use sirocco_host::{LoadedBy, ModelHost, ModelSpec};
use sirocco_server::{RunningServer, ServerConfig};

fn fixtures() -> PathBuf {
    std::env::var_os("SIROCCO_FIXTURES").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/sirocco/fixtures")
    })
}

async fn serve(api_key: Option<&str>) -> RunningServer {
    serve_with_context(api_key, 2048).await
}

async fn serve_with_context(api_key: Option<&str>, context: u32) -> RunningServer {
    serve_model("SmolLM2-135M-Instruct.Q4_1", api_key, context).await
}

async fn serve_model(id: &str, api_key: Option<&str>, context: u32) -> RunningServer {
    serve_configured(id, api_key, context, ServerConfig::default().max_pending).await
}

async fn serve_configured(id: &str, api_key: Option<&str>, context: u32, max_pending: usize) -> RunningServer {
    serve_loaded(id, api_key, max_pending, LoadParams { context_length: Some(context), ..LoadParams::default() }).await
}

async fn serve_loaded(id: &str, api_key: Option<&str>, max_pending: usize, params: LoadParams) -> RunningServer {
    let model = fixtures().join(format!("{id}.gguf"));
    assert!(model.is_file(), "missing fixture {} — run tests/fixtures/fetch.sh", model.display());
    let host = ModelHost::default();
    let spec = ModelSpec { id: id.into(), path: model, params };
    host.load(spec, LoadedBy::User, |_| {}, Arc::new(AtomicBool::new(false))).await.expect("the model loads");
    let config = ServerConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        api_key: api_key.map(String::from),
        max_body_bytes: 64 * 1024,
        on_request: None,
        cors_origins: vec!["http://localhost:3000".into()],
        max_pending,
        on_demand: None,
        store: Some(scratch_store().await),
        fetch_images: false,
        ..ServerConfig::default()
    };
    sirocco_server::start(config, host).await.unwrap()
}

/// A fresh store for kept responses, in cargo's scratch folder for tests.
async fn scratch_store() -> sirocco_store::Store {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!("responses-{}-{}.db", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    sirocco_store::Store::open(&path).await.expect("the store opens")
}

/// Runs `tests/server/<script>` (the official `openai` client) with `args`; it must end with
/// "all checks passed".
async fn run_client_script(script: &str, args: &[String]) {
    let python = fixtures().join("venv/bin/python");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/server").join(script);
    let out = tokio::process::Command::new(python).arg(path).args(args).output().await.expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{script} {args:?} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("all checks passed"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_openai_client_works_against_the_server() {
    let server = serve(Some("sk-sirocco-test")).await;
    let base = format!("http://{}/v1", server.addr);
    run_client_script("openai_client.py", &[base, "SmolLM2-135M-Instruct.Q4_1".into(), "sk-sirocco-test".into()]).await;
    server.stop().await;
}

/// Beyond `max_pending` requests in flight the server says "busy" at once (503, Retry-After)
/// instead of queueing without bound; a finished or abandoned request frees its place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_queue_requests_get_a_busy_503_at_once() {
    let server = serve_configured("SmolLM2-135M-Instruct.Q4_1", None, 1024, 2).await;
    let url = format!("http://{}/v1/chat/completions", server.addr);
    let http = reqwest::Client::new();
    let endless = serde_json::json!({
        "messages": [{"role": "user", "content": "Tell me a story."}], "stream": true, "max_tokens": 100000, "ignore_eos": true
    });
    let mut streams = Vec::new();
    for _ in 0..2 {
        let response = http.post(&url).json(&endless).send().await.unwrap();
        assert_eq!(response.status(), 200);
        streams.push(response);
    }
    let busy = http.post(&url).json(&endless).send().await.unwrap();
    assert_eq!(busy.status(), 503);
    assert_eq!(busy.headers()["retry-after"], "1");
    let body: serde_json::Value = busy.json().await.unwrap();
    assert_eq!(body["error"]["code"], "server_busy");

    // One client hangs up: its place frees once the server's next write finds the connection
    // closed (a token or two later). Wait for that condition, with a deadline.
    drop(streams.pop());
    let short = serde_json::json!({ "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4 });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        let status = http.post(&url).json(&short).send().await.unwrap().status().as_u16();
        if status != 503 || std::time::Instant::now() > deadline {
            break status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(status, 200, "the hung-up client's place was never freed");
    drop(streams);
    server.stop().await;
}

/// Fill-in-the-middle through the official client's `suffix`, on a model with FIM tokens: the
/// prompt is the model's FIM prompt (its token count is the usage the server reports).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_with_a_suffix_fill_in_the_middle() {
    let server = serve_model("tiny-coder-fim", None, 1024).await;
    let (prefix, suffix) = ("def add(a, b):\n    ", "\n\nprint(add(1, 2))\n");
    let http = reqwest::Client::new();
    let expected: serde_json::Value = http
        .post(format!("http://{}/tokenize", server.addr))
        .json(&serde_json::json!({ "content": format!("<|im_start|><fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>"), "add_special": false, "parse_special": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let expected = expected["tokens"].as_array().expect("tokens").len();
    let args = [
        format!("http://{}/v1", server.addr),
        "tiny-coder-fim".into(),
        prefix.into(),
        suffix.into(),
        expected.to_string(),
    ];
    run_client_script("openai_fim.py", &args).await;
    server.stop().await;
}

/// Tool calls through the official client, on a model with Mistral's own tool tokens (Mistral's
/// real v3 tokenizer), on one whose template has its own `<tool_call>` format (SmolLM2 with
/// Qwen 2.5's template) and on one without either (SmolLM2, the generic JSON format).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_calls_work_with_the_official_client() {
    let qwen = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/templates/qwen2.5-tools.jinja"),
    )
    .unwrap();
    for (id, native) in
        [("mistral-v3", "mistral"), ("SmolLM2-135M-Instruct.Q4_1", "tagged"), ("SmolLM2-135M-Instruct.Q4_1", "generic")]
    {
        let template = (native == "tagged").then(|| qwen.clone());
        let params =
            LoadParams { context_length: Some(2048), chat_template_override: template, ..LoadParams::default() };
        let server = serve_loaded(id, None, ServerConfig::default().max_pending, params).await;
        run_client_script("openai_tools.py", &[format!("http://{}/v1", server.addr), id.into(), native.into()]).await;
        server.stop().await;
    }
}

/// A template that opens a thought in the generation prompt (DeepSeek R1, Qwen 3 thinking) unless
/// Images as data URLs through the official client reach a model loaded with its vision
/// projector (llama.cpp's real `mtmd`, a tiny Pixtral-type projector); a web address, broken
/// data, a damaged image and an image for a model that does not see are clear 400s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_reach_a_model_that_sees_through_the_official_client() {
    let host = ModelHost::default();
    for (id, projector) in [("Tiny-Pixtral-F16", true), ("SmolLM2-135M-Instruct.Q4_1", false)] {
        let path = if projector {
            fixtures().join("vision").join(format!("{id}.gguf"))
        } else {
            fixtures().join(format!("{id}.gguf"))
        };
        let params = LoadParams {
            context_length: Some(1024),
            projector: projector.then(|| fixtures().join("vision/mmproj-Tiny-Pixtral-F32.gguf")),
            ..LoadParams::default()
        };
        let spec = ModelSpec { id: id.into(), path, params };
        host.load(spec, LoadedBy::User, |_| {}, Arc::new(AtomicBool::new(false))).await.expect("the model loads");
    }
    let config = ServerConfig { addr: "127.0.0.1:0".parse().unwrap(), ..ServerConfig::default() };
    let server = sirocco_server::start(config, host).await.unwrap();
    let args = [format!("http://{}/v1", server.addr), "Tiny-Pixtral-F16".into(), "SmolLM2-135M-Instruct.Q4_1".into()];
    run_client_script("openai_vision.py", &args).await;
    server.stop().await;
}

/// With the owner's leave (`fetch_images`), images named by a web address (a small HTTP server
/// the script runs on another host: a network namespace at a public TEST-NET address, the
/// server reached over the network with its key) reach the model as the same image sent whole
/// does, through the three APIs; what cannot be an image is a clear 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_images_are_fetched_when_the_owner_allows_it() {
    let host = ModelHost::default();
    let params = LoadParams {
        context_length: Some(1024),
        projector: Some(fixtures().join("vision/mmproj-Tiny-Pixtral-F32.gguf")),
        ..LoadParams::default()
    };
    let id = "Tiny-Pixtral-F16";
    let spec = ModelSpec { id: id.into(), path: fixtures().join("vision/Tiny-Pixtral-F16.gguf"), params };
    host.load(spec, LoadedBy::User, |_| {}, Arc::new(AtomicBool::new(false))).await.expect("the model loads");
    let ns = sirocco_test_hosts::Netns::new(31);
    let key = sirocco_server::generate_api_key();
    let addr = format!("{}:0", ns.here).parse().unwrap();
    let config = ServerConfig { addr, api_key: Some(key.clone()), fetch_images: true, ..ServerConfig::default() };
    let server = sirocco_server::start(config, host).await.unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/server/openai_remote_images.py");
    let out = ns
        .command(fixtures().join("venv/bin/python").to_str().unwrap())
        .arg(script)
        .args([format!("http://{}/v1", server.addr), id.into(), key, ns.there.clone()])
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("all checks passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.stop().await;
}

/// `enable_thinking` is false: the reply's thought comes back as `reasoning_content`, apart from
/// `content`, whole and streamed, in chat and text completions; effort, a thinking budget and
/// `reasoning_format: none` do what they say.
/// `/apply-template` shows the prompt a chat request would be given with every field that
/// shapes it: a Mistral v15 model's reasoning effort, asked directly or through
/// `chat_template_kwargs.enable_thinking`, lands in its `[MODEL_SETTINGS]`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_template_shown_takes_the_reasoning_effort_a_request_takes() {
    let server = serve_model("mistral-v15", None, 512).await;
    let prompt = |extra: serde_json::Value| {
        let url = format!("http://{}/apply-template", server.addr);
        async move {
            let mut body = serde_json::json!({ "messages": [{"role": "user", "content": "Hi"}] });
            body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            let answer: serde_json::Value =
                reqwest::Client::new().post(url).json(&body).send().await.unwrap().json().await.unwrap();
            answer["prompt"].as_str().unwrap_or_else(|| panic!("{answer}")).to_owned()
        }
    };
    let setting = |effort: &str| format!("{{\"reasoning_effort\": \"{effort}\"}}");
    let plain = prompt(serde_json::json!({})).await;
    let high = prompt(serde_json::json!({ "reasoning_effort": "high" })).await;
    let kwargs = prompt(serde_json::json!({ "chat_template_kwargs": { "enable_thinking": true } })).await;
    assert!(plain.contains(&setting("none")), "the model's default: {plain}");
    assert!(high.contains(&setting("high")), "{high}");
    assert_eq!(kwargs, high, "enable_thinking asks what reasoning_effort high asks");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reasoning_comes_apart_from_the_answer_to_the_official_client() {
    let params = LoadParams {
        context_length: Some(1024),
        chat_template_override: Some(THINKING_TEMPLATE.into()),
        ..LoadParams::default()
    };
    let id = "SmolLM2-135M-Instruct.Q4_1";
    let server = serve_loaded(id, None, ServerConfig::default().max_pending, params).await;
    run_client_script("openai_reasoning.py", &[format!("http://{}/v1", server.addr), id.into()]).await;
    server.stop().await;
}

/// `logprobs` and `top_logprobs` answered, not accepted and ignored: each token's
/// log-probability and alternatives, whole and streamed, in chat and text completions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logprobs_reach_the_official_client() {
    let server = serve(None).await;
    let id = "SmolLM2-135M-Instruct.Q4_1";
    run_client_script("openai_logprobs.py", &[format!("http://{}/v1", server.addr), id.into()]).await;
    server.stop().await;
}

/// The thinking template of the reasoning tests: it opens a thought in the generation prompt
/// (DeepSeek R1, Qwen 3 thinking) unless `enable_thinking` is false, and writes a reasoning
/// effort it is given in a system line (as gpt-oss's does).
const THINKING_TEMPLATE: &str =
    "{% if reasoning_effort is defined %}<|im_start|>system\nReasoning effort: {{ reasoning_effort }}<|im_end|>\n{% endif %}\
    {% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n\
    {% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n\
    {% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% else %}<think>\n{% endif %}\
    {% endif %}";

/// Anthropic's Messages API through the official `anthropic` client (x-api-key): whole and
/// streamed answers, stop sequences, a tool call and its result, count_tokens, thinking blocks
/// and Anthropic's error shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_anthropic_client_works_against_the_server() {
    let id = "SmolLM2-135M-Instruct.Q4_1";
    for (mode, template) in [("plain", None), ("thinking", Some(THINKING_TEMPLATE.to_owned()))] {
        let params =
            LoadParams { context_length: Some(2048), chat_template_override: template, ..LoadParams::default() };
        let server = serve_loaded(id, Some("sk-ant-local"), ServerConfig::default().max_pending, params).await;
        let args = [format!("http://{}", server.addr), id.into(), "sk-ant-local".into(), mode.into()];
        run_client_script("anthropic_messages.py", &args).await;
        server.stop().await;
    }
}

/// OpenAI's Responses API through the official client: whole and streamed answers, a follow-up
/// by `previous_response_id` (kept in SQLite) equal to the conversation sent whole, a function
/// tool, reasoning items, retrieve/delete, and errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_responses_api_works_with_the_official_client() {
    let id = "SmolLM2-135M-Instruct.Q4_1";
    for (mode, template) in [("plain", None), ("thinking", Some(THINKING_TEMPLATE.to_owned()))] {
        let params =
            LoadParams { context_length: Some(2048), chat_template_override: template, ..LoadParams::default() };
        let server = serve_loaded(id, None, ServerConfig::default().max_pending, params).await;
        run_client_script("openai_responses.py", &[format!("http://{}/v1", server.addr), id.into(), mode.into()]).await;
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_is_framed_exactly_like_openai_and_hostile_requests_get_clear_400s() {
    let server = serve(None).await;
    let url = |path: &str| format!("http://{}{path}", server.addr);
    let http = reqwest::Client::new();

    // The raw stream: only `data: …\n\n` events, ending with `data: [DONE]\n\n` and nothing after.
    let body = http
        .post(url("/v1/chat/completions"))
        .json(&serde_json::json!({
            "messages": [{"role": "user", "content": "Say hello in French."}],
            "stream": true, "temperature": 0, "max_tokens": 12
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(body.headers()["content-type"], "text/event-stream");
    let text = body.text().await.unwrap();
    assert!(text.ends_with("data: [DONE]\n\n"), "{text:?}");
    let events: Vec<&str> = text.trim_end_matches("\n\n").split("\n\n").collect();
    assert!(events.len() >= 4, "{text:?}");
    for event in &events {
        let data = event.strip_prefix("data: ").unwrap_or_else(|| panic!("not a data line: {event:?}"));
        assert!(!data.contains('\n'), "one line per event: {data:?}");
        if data != "[DONE]" {
            let chunk: serde_json::Value = serde_json::from_str(data).unwrap();
            assert_eq!(chunk["object"], "chat.completion.chunk");
        }
    }
    assert_eq!(events.iter().filter(|e| **e == "data: [DONE]").count(), 1);

    // Hostile and malformed requests: a 400 (or 404/413) in OpenAI's error format, never a 5xx.
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("/v1/chat/completions", b"{not json".to_vec(), 400, "not valid JSON"),
        ("/v1/chat/completions", br#"{"messages": "hello"}"#.to_vec(), 400, "does not match the API"),
        ("/v1/chat/completions", br#"{"messages": [{"role": "user", "content": 42}]}"#.to_vec(), 400, "does not match"),
        (
            "/v1/chat/completions",
            br#"{"messages": [{"role":"user","content":"hi"}], "max_tokens": -1}"#.to_vec(),
            400,
            "does not match",
        ),
        (
            "/v1/chat/completions",
            br#"{"messages": [{"role":"user","content":"hi"}], "reasoning_effort": "extreme"}"#.to_vec(),
            400,
            "does not match",
        ),
        (
            "/v1/chat/completions",
            br#"{"messages": [{"role":"user","content":"hi"}], "max_tokens": 0}"#.to_vec(),
            400,
            "max_tokens",
        ),
        (
            "/v1/chat/completions",
            br#"{"messages": [{"role":"user","content":"hi"}], "top_p": 0}"#.to_vec(),
            400,
            "top_p",
        ),
        (
            "/v1/chat/completions",
            br#"{"messages": [{"role":"user","content":"hi"}], "stop": ["a","b","c","d","e"]}"#.to_vec(),
            400,
            "stop",
        ),
        (
            "/v1/chat/completions",
            br#"{"messages": [{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}"#.to_vec(),
            400,
            "must be a data URL",
        ),
        (
            "/v1/chat/completions",
            br#"{"messages": [{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}"#.to_vec(),
            400,
            "input_audio",
        ),
        (
            "/v1/chat/completions",
            br#"{"messages": [{"role":"user","content":"hi"}], "response_format": {"type": "json_schema"}}"#.to_vec(),
            400,
            "schema",
        ),
        (
            "/v1/completions",
            br#"{"prompt": "def f(", "suffix": "return 1"}"#.to_vec(),
            400,
            "not trained for fill-in-the-middle",
        ),
        ("/v1/completions", br#"{"prompt": ["a", "b"]}"#.to_vec(), 400, "one prompt"),
        (
            "/v1/chat/completions",
            format!(r#"{{"messages": [{{"role":"user","content":"{}"}}]}}"#, "x".repeat(100_000)).into_bytes(),
            413,
            "",
        ),
        ("/v1/nothing-here", b"{}".to_vec(), 404, "Unknown endpoint"),
    ];
    for (path, body, status, needle) in cases {
        let response =
            http.post(url(path)).header("content-type", "application/json").body(body.clone()).send().await.unwrap();
        assert_eq!(
            response.status().as_u16(),
            status,
            "{path} {:?}",
            String::from_utf8_lossy(&body[..body.len().min(120)])
        );
        let error: serde_json::Value = response.json().await.unwrap();
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{path}: {message}");
        assert!(error["error"]["type"].is_string());
    }
    // A prompt longer than the context: a clear 400 naming the numbers.
    let long = "word ".repeat(4000);
    let response = http
        .post(url("/v1/chat/completions"))
        .json(&serde_json::json!({"messages": [{"role": "user", "content": long}], "max_tokens": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let error: serde_json::Value = response.json().await.unwrap();
    assert!(error["error"]["message"].as_str().unwrap().contains("2048"), "{error}");
    // As OpenAI codes it: clients (Codex) shorten the conversation and retry on this code.
    assert_eq!(error["error"]["code"], "context_length_exceeded", "{error}");

    // llama.cpp-server extras: tokenize ↔ detokenize, the exact prompt for a messages list.
    let post = |path: &'static str, body: serde_json::Value| {
        let request = http.post(url(path)).json(&body);
        async move {
            let r = request.send().await.unwrap();
            (r.status().as_u16(), r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, tokens) = post("/tokenize", serde_json::json!({"content": "Hello, world! <|im_start|>"})).await;
    assert_eq!(status, 200);
    let ids: Vec<i64> = tokens["tokens"].as_array().unwrap().iter().map(|t| t.as_i64().unwrap()).collect();
    assert!(ids.len() >= 4, "{tokens}");
    let (_, text) = post("/detokenize", serde_json::json!({"tokens": ids})).await;
    assert_eq!(text["content"], "Hello, world! <|im_start|>");
    let (_, plain) = post("/tokenize", serde_json::json!({"content": "<|im_start|>", "parse_special": false})).await;
    assert!(plain["tokens"].as_array().unwrap().len() > 1, "control-token text stays text when asked");
    let (status, template) =
        post("/apply-template", serde_json::json!({"messages": [{"role": "user", "content": "Hi there"}]})).await;
    assert_eq!(status, 200);
    let prompt = template["prompt"].as_str().unwrap();
    assert!(
        prompt.contains("<|im_start|>user\nHi there<|im_end|>") && prompt.ends_with("<|im_start|>assistant\n"),
        "{prompt:?}"
    );
    for bad in [
        serde_json::json!({"tokens": [-1]}),
        serde_json::json!({"tokens": [999_999_999]}),
        serde_json::json!({"tokens": "x"}),
    ] {
        let (status, error) = post("/detokenize", bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {error}");
    }

    // The OpenAPI document lists what is served.
    let doc: serde_json::Value = http.get(url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    for path in [
        "/v1/chat/completions",
        "/v1/completions",
        "/v1/models",
        "/tokenize",
        "/detokenize",
        "/apply-template",
        "/health",
        // Ollama's, fuzzed with the rest (the requests test below).
        "/api/chat",
        "/api/generate",
        "/api/embed",
        "/api/embeddings",
        "/api/tags",
        "/api/pull",
        "/api/copy",
        "/api/delete",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }

    // CORS: only the allow-listed page gets the header a browser needs.
    for (origin, allowed) in [("http://localhost:3000", true), ("https://evil.example", false)] {
        let preflight = http
            .request(reqwest::Method::OPTIONS, url("/v1/chat/completions"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .send()
            .await
            .unwrap();
        let header = preflight.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_string());
        assert_eq!(header.as_deref() == Some(origin), allowed, "{origin}: {header:?}");
    }

    // Health needs no key; the server still answers after all of that.
    let health: serde_json::Value = http.get(url("/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    let addr = server.addr;
    server.stop().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "the port is closed after stop");
}

/// Requests generated from /openapi.json by schemathesis (valid and hostile: wrong types, edge
/// values, odd strings), on OpenAI's, llama-server's and Ollama's routes: none gets a 5xx. A small context keeps valid generations short
/// (the time goes to schemathesis's ~2,000 requests, most of them refused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_generated_from_the_openapi_document_never_get_a_server_error() {
    let server = serve_with_context(Some("sk-fuzz"), 96).await;
    let st = fixtures().join("venv/bin/st");
    let out = tokio::process::Command::new(st)
        .arg("run")
        .arg(format!("http://{}/openapi.json", server.addr))
        .args([
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "8",
            "--workers",
            "1",
            "--seed",
            "20261123",
            "--generation-database",
            "none",
        ])
        .args(["--phases", "coverage,fuzzing", "--request-timeout", "60", "-H", "Authorization: Bearer sk-fuzz"])
        .output()
        .await
        .expect("schemathesis runs (tests/fixtures/fetch.sh installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found server errors:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("passed"), "{stdout}");
    server.stop().await;
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 =
        status.lines().find(|l| l.starts_with("VmRSS:")).unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// 16 clients at once, some hanging up mid-stream: every answer is a 200, nothing is left
/// generating for a client that left (the next request is served), memory stays flat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_concurrent_clients_with_disconnects_get_no_errors_and_leak_nothing() {
    use futures_util::StreamExt;
    let server = serve_with_context(None, 1024).await;
    let base = format!("http://{}/v1/chat/completions", server.addr);
    let http = reqwest::Client::new();
    let run_round = |round: u64| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let clients = (0..16u64).map(|client| {
                let (http, base) = (http.clone(), base.clone());
                tokio::spawn(async move {
                    // Deterministic "random": a third of the clients hang up after a few chunks.
                    let hang_up_after = (client * 7 + round * 3).is_multiple_of(3).then_some(2 + (client % 4) as usize);
                    let response = http
                        .post(&base)
                        .json(&serde_json::json!({
                            "messages": [{"role": "user", "content": format!("Tell me fact number {client} about the sea.")}],
                            "stream": true, "max_tokens": 24, "ignore_eos": true, "seed": client
                        }))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status().as_u16(), 200);
                    let mut stream = response.bytes_stream();
                    let mut chunks = 0;
                    let mut body = String::new();
                    while let Some(chunk) = stream.next().await {
                        body.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
                        chunks += 1;
                        if hang_up_after.is_some_and(|n| chunks >= n) {
                            return false; // dropped: the client went away
                        }
                    }
                    assert!(body.ends_with("data: [DONE]\n\n"), "{body}");
                    assert!(!body.contains("\"error\""), "{body}");
                    true
                })
            });
            let mut finished = 0;
            for c in clients {
                finished += c.await.unwrap() as usize;
            }
            finished
        }
    };
    let finished = run_round(0).await;
    assert!(finished >= 8, "most clients read to the end ({finished})");
    let before = rss_bytes();
    for round in 1..3 {
        run_round(round).await;
    }
    // Nothing is still generating for the clients that left: a new request is answered in full.
    let reply: serde_json::Value = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        http.post(&base)
            .json(&serde_json::json!({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}))
            .send(),
    )
    .await
    .expect("the engine is free")
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(reply["object"], "chat.completion");
    let growth = rss_bytes().saturating_sub(before);
    assert!(growth < 64 * 1024 * 1024, "memory grew by {} MB over two rounds", growth / (1024 * 1024));
    server.stop().await;
}

#[tokio::test]
async fn serving_beyond_this_machine_requires_an_api_key() {
    let config = ServerConfig { addr: "0.0.0.0:0".parse().unwrap(), api_key: None, ..ServerConfig::default() };
    let err = sirocco_server::start(config, ModelHost::default()).await.err().expect("refused");
    assert!(err.to_string().contains("requires an API key"), "{err}");
}

#[tokio::test]
async fn without_a_loaded_model_requests_get_a_clear_503() {
    let config = ServerConfig { addr: "127.0.0.1:0".parse().unwrap(), ..ServerConfig::default() };
    let server = sirocco_server::start(config, ModelHost::default()).await.unwrap();
    let http = reqwest::Client::new();
    let models: serde_json::Value =
        http.get(format!("http://{}/v1/models", server.addr)).send().await.unwrap().json().await.unwrap();
    assert_eq!(models["data"], serde_json::json!([]));
    let response = http
        .post(format!("http://{}/tokenize", server.addr))
        .json(&serde_json::json!({"content": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    let error: serde_json::Value = response.json().await.unwrap();
    assert!(error["error"]["message"].as_str().unwrap().contains("No model is loaded"), "{error}");
    server.stop().await;
}
