//! `sirocco serve` as a user runs it: a process that loads the model, prints its address, serves
//! the OpenAI API, and exits cleanly on SIGTERM with the port closed.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

mod common;
use common::{fixtures, isolated};

/// Reads the `serving … on http://…/v1` line; the base URL.
fn base_url(child: &mut std::process::Child) -> (String, String) {
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (line.trim().rsplit(' ').next().unwrap().to_string(), line)
}

/// `sirocco serve --port 0 <args>` with `env` (no API key from this shell), its stdout piped:
/// the process, its base URL and the line it printed.
fn serve(args: &[&str], env: Vec<(&'static str, PathBuf)>) -> (Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sirocco"))
        .args(["serve", "--port", "0"])
        .args(args)
        .env_remove("SIROCCO_API_KEY")
        .envs(env)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (base, line) = base_url(&mut child);
    (child, base, line)
}

fn stop(child: &mut std::process::Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success(), "exits cleanly on SIGTERM");
}

#[tokio::test]
async fn serve_runs_headless_and_stops_on_sigterm() {
    let fixtures = fixtures();
    let model = fixtures.join("SmolLM2-135M-Instruct.Q4_1.gguf");
    let (mut child, base, line) = serve(
        &["--context", "1024", "--model", model.to_str().unwrap()],
        isolated(&tempfile::tempdir().unwrap().keep()),
    );
    assert!(line.starts_with("serving SmolLM2-135M-Instruct.Q4_1 on http://127.0.0.1:"), "{line}");

    let models: serde_json::Value = reqwest::get(format!("{base}/models")).await.unwrap().json().await.unwrap();
    assert_eq!(models["data"][0]["id"], "SmolLM2-135M-Instruct.Q4_1");
    let reply: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/chat/completions"))
        .json(&serde_json::json!({"messages": [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}], "temperature": 0, "max_tokens": 40}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(reply["choices"][0]["message"]["content"].as_str().unwrap().contains("Paris"), "{reply}");
    // A client with a fixed model name gets the model served, and is told which.
    let reply: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/chat/completions"))
        .json(&serde_json::json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["model"], "SmolLM2-135M-Instruct.Q4_1", "{reply}");

    stop(&mut child);
    assert!(reqwest::get(format!("{base}/models")).await.is_err(), "the port is closed");
}

/// Without `--model`: the app's library is listed, and the model a request names is loaded
/// with the settings the app saved for it (its default preset).
#[tokio::test]
async fn serve_loads_library_models_on_demand_with_their_saved_settings() {
    let dir = tempfile::tempdir().unwrap();
    let env = isolated(dir.path());
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    let path = models.join("SmolLM2-135M-Instruct.Q4_1.gguf");
    std::os::unix::fs::symlink(fixtures().join("SmolLM2-135M-Instruct.Q4_1.gguf"), &path).unwrap();
    // The app's database: this model's default preset asks for a 768-token context.
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    let store = sirocco_store::Store::open(&dir.path().join("data/sirocco.db")).await.unwrap();
    let params = sirocco_store::PresetParams { context_length: Some(768), ..Default::default() };
    let preset = store.create_preset("Small context", &params).await.unwrap();
    store.set_model_preset(&path.to_string_lossy(), preset).await.unwrap();
    drop(store);

    let (mut child, base, line) = serve(&[], env);
    assert!(line.starts_with("serving the library on http://127.0.0.1:"), "{line}");
    let root = base.trim_end_matches("/v1").to_string();
    let models: serde_json::Value = reqwest::get(format!("{base}/models")).await.unwrap().json().await.unwrap();
    assert_eq!(models["data"][0]["id"], "SmolLM2-135M-Instruct.Q4_1", "{models}");
    let health: serde_json::Value = reqwest::get(format!("{root}/health")).await.unwrap().json().await.unwrap();
    assert_eq!(health["model"], serde_json::Value::Null, "nothing loaded yet");

    let reply = reqwest::Client::new()
        .post(format!("{base}/chat/completions"))
        .json(&serde_json::json!({"model": "SmolLM2-135M-Instruct.Q4_1", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let health: serde_json::Value = reqwest::get(format!("{root}/health")).await.unwrap().json().await.unwrap();
    assert_eq!(health["model"], "SmolLM2-135M-Instruct.Q4_1");
    assert_eq!(health["context_length"], 768, "loaded with its saved settings");

    // `sirocco ps` lists it: loaded by a request, idle, with its memory.
    let port = root.rsplit(':').next().unwrap();
    let ps = Command::new(env!("CARGO_BIN_EXE_sirocco"))
        .args(["ps", "--port", port])
        .env_remove("SIROCCO_API_KEY")
        .output()
        .unwrap();
    assert!(ps.status.success(), "{}", String::from_utf8_lossy(&ps.stderr));
    let table = String::from_utf8_lossy(&ps.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "a header and one model: {table}");
    assert!(
        lines[0].starts_with("MODEL") && lines[1].starts_with("SmolLM2-135M-Instruct.Q4_1  loaded  a request"),
        "{table}"
    );
    let cells: Vec<&str> = lines[1].split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
    assert!(cells[3].ends_with(" MB"), "its memory: {table}");
    assert_eq!(cells[4], "0", "no request uses it now: {table}");
    assert!(cells[5].starts_with("0:0"), "idle for seconds: {table}");
    stop(&mut child);

    // With no server: a clear error, exit status 1.
    let ps = Command::new(env!("CARGO_BIN_EXE_sirocco"))
        .args(["ps", "--port", port])
        .env_remove("SIROCCO_API_KEY")
        .output()
        .unwrap();
    assert_eq!(ps.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&ps.stderr).contains("no Sirocco server answers"),
        "{}",
        String::from_utf8_lossy(&ps.stderr)
    );
}

/// `sirocco serve` answers only to the names it serves and the pages it was told of: a forged
/// `Host` (DNS rebinding) or a foreign `Origin` is a 403 naming the flag that would allow it,
/// and the flags allow exactly that.
#[tokio::test]
async fn serve_refuses_other_hosts_and_pages_until_told_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let start = |extra: &[&str]| {
        let (child, base, _) = serve(extra, isolated(dir.path()));
        (child, base)
    };
    let http = reqwest::Client::new();
    let status = |base: String, header: &'static str, value: &'static str| {
        let request = http.get(format!("{base}/models")).header(header, value);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let (mut plain, base) = start(&[]);
    let (code, body) = status(base.clone(), "host", "rebind.attacker.test:1234").await;
    assert_eq!(code, 403, "{body}");
    assert!(body.contains("--trusted-host"), "{body}");
    let (code, body) = status(base.clone(), "origin", "http://rebind.attacker.test:1234").await;
    assert_eq!(code, 403, "{body}");
    assert!(body.contains("--cors-origin"), "{body}");
    assert_eq!(status(base.clone(), "host", "llm.home.arpa").await.0, 403);
    stop(&mut plain);

    let (mut told, base) = start(&["--trusted-host", "llm.home.arpa", "--cors-origin", "https://app.example.com"]);
    assert_eq!(status(base.clone(), "host", "llm.home.arpa").await.0, 200);
    assert_eq!(status(base.clone(), "origin", "https://app.example.com").await.0, 200);
    assert_eq!(status(base.clone(), "host", "rebind.attacker.test").await.0, 403);
    stop(&mut told);
}

/// The key stays out of the process list when it comes from a file (or the environment); on
/// the command line it works but draws a warning. On the network a weak key is refused before
/// anything loads, with a strong one offered.
#[tokio::test]
async fn the_api_key_stays_out_of_the_process_list() {
    let dir = tempfile::tempdir().unwrap();
    let key = "sk-sirocco-Zq3mVb8LxT2wYp6RkJd9Hs4Nc7Fa1Ge5";
    let key_file = dir.path().join("api-key");
    std::fs::write(&key_file, format!("{key}\n")).unwrap();
    let (mut child, base, _) = serve(&["--api-key-file", key_file.to_str().unwrap()], isolated(dir.path()));
    let listed = Command::new("ps").args(["-eww", "-o", "args"]).output().unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("--api-key-file"), "ps lists the server");
    assert!(!listed.contains(key), "ps shows the key:\n{listed}");
    let http = reqwest::Client::new();
    assert_eq!(http.get(format!("{base}/models")).send().await.unwrap().status(), 401);
    assert_eq!(http.get(format!("{base}/models")).bearer_auth(key).send().await.unwrap().status(), 200);
    stop(&mut child);

    let warned = Command::new(env!("CARGO_BIN_EXE_sirocco"))
        .args(["serve", "--host", "0.0.0.0", "--port", "0", "--api-key", "short-key"])
        .envs(isolated(dir.path()))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&warned.stderr);
    assert!(!warned.status.success());
    assert!(said.contains("visible to every user"), "a key on the command line is warned about: {said}");
    assert!(said.contains("at least 24 characters") && said.contains("sk-sirocco-"), "{said}");
}

/// `--spec-type` as llama-server takes it: the answers draft from n-grams of the conversation,
/// `usage.timings` says how many tokens were drafted and kept (llama-server's names), and a
/// request's `"speculative.n_max": 0` decodes it plainly.
#[tokio::test]
async fn serve_drafts_tokens_and_reports_them_in_timings() {
    let model = fixtures().join("SmolLM2-135M-Instruct.Q4_1.gguf");
    let (mut child, base, _) = serve(
        &["--context", "1024", "--spec-type", "ngram-simple", "--model", model.to_str().unwrap()],
        isolated(&tempfile::tempdir().unwrap().keep()),
    );
    let code = "def sum_prices(items, tax_rate):\n    subtotal = 0\n    for item in items:\n        \
                subtotal += item.price * item.quantity\n    tax = subtotal * tax_rate\n    return subtotal + tax\n";
    let ask = |extra: serde_json::Value| {
        let mut body = serde_json::json!({
            "messages": [{"role": "user", "content": format!("Repeat this code exactly:\n\n{code}")}],
            "temperature": 0, "max_tokens": 64,
        });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let base = base.clone();
        async move {
            let reply: serde_json::Value = reqwest::Client::new()
                .post(format!("{base}/chat/completions"))
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            reply
        }
    };
    let drafted = ask(serde_json::json!({})).await;
    let timings = &drafted["usage"]["timings"];
    let (n, kept) = (timings["draft_n"].as_u64().unwrap_or(0), timings["draft_n_accepted"].as_u64().unwrap_or(0));
    assert!(n > 0 && kept > 0 && kept <= n, "{drafted}");

    let plain = ask(serde_json::json!({"speculative.n_max": 0})).await;
    assert!(plain["usage"]["timings"].get("draft_n").is_none(), "{plain}");
    assert!(plain["usage"]["timings"]["predicted_n"].as_u64().unwrap() > 0, "{plain}");
    stop(&mut child);
}

/// A model named by its path loads with the vision projector beside it, as the library loads it:
/// an image reaches the model (its positions count in the prompt) instead of being refused.
#[tokio::test]
async fn serve_with_a_model_path_loads_the_projector_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("picture.png");
    let made = Command::new(fixtures().join("venv/bin/python"))
        .args(["-c", "import sys; from PIL import Image; Image.new('RGB', (112, 84), (200, 40, 40)).save(sys.argv[1])"])
        .arg(&png)
        .status()
        .unwrap();
    assert!(made.success(), "the fixtures' Python writes a PNG");
    use base64::Engine as _;
    let url = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(&png).unwrap())
    );

    let (mut child, base, _) = serve(
        &["--context", "1024", "--model", fixtures().join("vision/Tiny-Pixtral-F16.gguf").to_str().unwrap()],
        isolated(dir.path()),
    );
    let ask = |content: serde_json::Value| {
        let base = base.clone();
        async move {
            let body = serde_json::json!({"messages": [{"role": "user", "content": content}], "temperature": 0, "max_tokens": 2});
            let reply =
                reqwest::Client::new().post(format!("{base}/chat/completions")).json(&body).send().await.unwrap();
            let status = reply.status();
            (status, reply.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, text_only) = ask(serde_json::json!("What is in this picture?")).await;
    assert!(status.is_success(), "{text_only}");
    let (status, with_image) = ask(serde_json::json!([
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": url}},
    ]))
    .await;
    assert!(status.is_success(), "the image is not refused: {with_image}");
    let prompt = |v: &serde_json::Value| v["usage"]["prompt_tokens"].as_u64().unwrap();
    assert!(prompt(&with_image) > prompt(&text_only) + 10, "the image's positions count: {with_image} vs {text_only}");
    stop(&mut child);
}

/// A port Sirocco serves already (the app, or another `sirocco serve`) is named as Sirocco's,
/// with the address to use; one another program holds is named as that.
#[tokio::test]
async fn a_port_already_served_says_by_whom() {
    let dir = tempfile::tempdir().unwrap();
    let (mut first, base, _) = serve(&[], isolated(dir.path()));
    let port = base.trim_end_matches("/v1").rsplit(':').next().unwrap().to_owned();
    let again = |port: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_sirocco"))
            .args(["serve", "--port", port])
            .env_remove("SIROCCO_API_KEY")
            .envs(isolated(dir.path()))
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, said) = again(&port);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("Sirocco is already serving on 127.0.0.1:") && said.contains(base.as_str()), "{said}");
    stop(&mut first);

    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (code, said) = again(&other.local_addr().unwrap().port().to_string());
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("is taken by another program"), "{said}");
}
