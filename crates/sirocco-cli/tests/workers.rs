//! Layers on another machine through `sirocco worker` (ggml-rpc), on loopback: greedy text with
//! some layers on the worker is the text with every layer here, the worker really holds those
//! layers' weights, and a worker that is not there is a clear error (ggml-rpc would abort).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

mod common;
use common::{fixtures, isolated};
use sirocco_engine::planner;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Kills the child when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `sirocco worker` (inside network namespace `netns` when given) and waits for the
/// line that says it listens; the first line it wrote to stderr (its warning, if any).
fn worker_at(netns: Option<&str>, host: &str, port: u16) -> (Running, String) {
    let bin = env!("CARGO_BIN_EXE_sirocco");
    let port = port.to_string();
    let mut args = vec!["worker", "--host", host, "--port", &port, "--threads", "1"];
    if !host.starts_with("127.") {
        args.push("--allow-unauthenticated");
    }
    let mut command = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, bin]).args(args);
            c
        }
        None => {
            let mut c = Command::new(bin);
            c.args(args);
            c
        }
    };
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("sirocco worker listening on") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "the worker exited before listening");
    }
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let mut warning = String::new();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    if !host.starts_with("127.") {
        err.read_line(&mut warning).unwrap();
    }
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    (Running(child), warning)
}

fn worker(port: u16) -> Running {
    worker_at(None, "127.0.0.1", port).0
}

/// `sirocco serve` with these extra arguments; its base URL.
fn serve(extra: &[String]) -> (Running, String) {
    let (running, base, _log) = serve_logged(extra);
    (running, base)
}

/// `sirocco serve` as [`serve`], and its stderr line by line.
fn serve_logged(extra: &[String]) -> (Running, String, std::sync::mpsc::Receiver<String>) {
    serve_model(&fixtures().join("SmolLM2-135M-Instruct.Q4_1.gguf"), extra)
}

/// `sirocco serve --model model` with these extra arguments; its base URL and stderr.
fn serve_model(model: &std::path::Path, extra: &[String]) -> (Running, String, std::sync::mpsc::Receiver<String>) {
    let dir = tempfile::tempdir().unwrap().keep();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sirocco"))
        .args(["serve", "--port", "0", "--context", "512", "--parallel", "1", "--model"])
        .arg(model)
        .args(extra)
        .env_remove("SIROCCO_API_KEY")
        .envs(isolated(&dir))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let mut err = child.stderr.take().unwrap();
    if !line.starts_with("serving ") {
        let mut said = String::new();
        std::io::Read::read_to_string(&mut err, &mut said).unwrap();
        panic!("serve did not start: {line:?}\n{said}");
    }
    let (log, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = log.send(line);
        }
    });
    (Running(child), line.trim().rsplit(' ').next().unwrap().to_string(), lines)
}

/// The first line on `log` starting with `prefix`, within 30 s (a missing line fails the
/// test instead of hanging it).
fn said(log: &std::sync::mpsc::Receiver<String>, prefix: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match log.recv_timeout(left) {
            Ok(line) if line.starts_with(prefix) => return line,
            Ok(_) => {}
            Err(e) => panic!("no line starting with {prefix:?} ({e})"),
        }
    }
}

/// A chat completion at temperature 0 of one user message; the whole reply.
async fn complete(base: &str, message: &str, max_tokens: u32) -> serde_json::Value {
    reqwest::Client::new()
        .post(format!("{base}/chat/completions"))
        .json(&serde_json::json!({"messages": [{"role": "user", "content": message}], "temperature": 0, "max_tokens": max_tokens}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn greedy(base: &str) -> String {
    let reply = complete(base, "Name three rivers of Europe.", 32).await;
    reply["choices"][0]["message"]["content"].as_str().unwrap_or_else(|| panic!("{reply}")).to_owned()
}

fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .unwrap()
        .trim()
        .trim_end_matches(" kB")
        .trim()
        .parse()
        .unwrap();
    kb * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layers_on_a_loopback_worker_give_the_same_greedy_text() {
    let (local, base) = serve(&[]);
    let expected = greedy(&base).await;
    drop(local);

    let port = free_port();
    let worker = worker(port);
    let before = rss_bytes(worker.0.id());
    // SmolLM2-135M: 30 layers of ~3 MB each at Q4_1; half of them on the worker.
    let (offloaded, base) =
        serve(&["--worker".into(), format!("127.0.0.1:{port}"), "--gpu-layers".into(), "15".into()]);
    let text = greedy(&base).await;
    assert_eq!(text, expected, "greedy text with 15 of 30 layers on the worker");
    // A prompt that fills most of a batch: the worker's compute buffer is then in use as the
    // planner counts it (a few tokens touch only a few of its pages).
    let long = "The river flows to the sea, and the sea returns it as rain. ".repeat(29);
    let reply = complete(&base, &long, 8).await;
    let prompt_tokens = reply["usage"]["prompt_tokens"].as_u64().unwrap_or_else(|| panic!("{reply}"));
    assert!((440..=500).contains(&prompt_tokens), "a prompt of most of a 512-token batch: {prompt_tokens}");
    let grown = rss_bytes(worker.0.id()).saturating_sub(before);
    // The planner's share for the worker: as `sirocco serve` loads it (512 tokens of context,
    // one sequence, batches of 512), the worker the only offload device.
    let summary = sirocco_engine::gguf_file::inspect(&fixtures().join("SmolLM2-135M-Instruct.Q4_1.gguf")).unwrap();
    let request = planner::PlanRequest { gpu_layers: 15, sequences: 1, ..planner::PlanRequest::cpu(512) };
    let (_, shares) = planner::estimate_split(&summary, &request, &[1]);
    let share = &shares[0];
    eprintln!("worker grew by {grown} bytes; the planner's share: {share:?} = {}", share.total());
    let ratio = grown as f64 / share.total() as f64;
    assert!(
        (0.95..=1.05).contains(&ratio),
        "the worker holds {grown} bytes, the planner said {} ({ratio:.3}x)",
        share.total()
    );
    drop(offloaded);
}

/// A mixture of experts with every layer offloaded to the worker, its experts kept in RAM
/// (`--cpu-moe`) or not: kept, the expert tensors stay here while attention and the rest go
/// to the worker — the worker's growth without `--cpu-moe` less its growth with it is the
/// experts' bytes — and the greedy text is the all-local text either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn experts_kept_in_ram_stay_here_while_the_rest_goes_to_the_worker() {
    let model = fixtures().join("tiny-moe-wide-experts.gguf");
    let summary = sirocco_engine::gguf_file::inspect(&model).unwrap();
    let experts: u64 = summary.expert_bytes.iter().sum();
    let layers: u64 = summary.layer_bytes.iter().sum();
    assert!(experts * 10 > layers * 9, "the fixture's layers are mostly experts: {experts} of {layers}");
    let (local, base, _) = serve_model(&model, &[]);
    let expected = greedy(&base).await;
    drop(local);

    let mut grown = Vec::new();
    for cpu_moe in [false, true] {
        let port = free_port();
        let worker = worker(port);
        let before = rss_bytes(worker.0.id());
        let mut args = vec!["--worker".to_owned(), format!("127.0.0.1:{port}"), "--gpu-layers".into(), "5".into()];
        if cpu_moe {
            args.push("--cpu-moe".into());
        }
        let (offloaded, base, _) = serve_model(&model, &args);
        assert_eq!(greedy(&base).await, expected, "greedy text with every layer on the worker (--cpu-moe: {cpu_moe})");
        grown.push(rss_bytes(worker.0.id()).saturating_sub(before));
        drop(offloaded);
    }
    let (all, kept) = (grown[0], grown[1]);
    eprintln!("worker grew by {all} bytes with the experts, {kept} without; the experts are {experts} bytes");
    // What left the worker is the experts' weights and the activations of their matrix
    // products, now computed here (a few hundred KB for this prompt: up to a tenth more).
    let moved = all.saturating_sub(kept) as f64 / experts as f64;
    assert!((0.95..=1.10).contains(&moved), "the experts' bytes stayed here: the worker held {all} vs {kept} bytes, the experts are {experts} ({moved:.3}x)");
    // What stayed on the worker: attention and the rest of every layer, and the head.
    let rest = layers - experts + summary.output_layer_bytes();
    assert!(kept >= rest, "attention and the head are on the worker: it holds {kept} bytes, they are {rest}");
}

#[test]
fn a_worker_that_is_not_there_is_a_clear_error_not_an_abort() {
    let port = free_port();
    let out = Command::new(env!("CARGO_BIN_EXE_sirocco"))
        .args(["serve", "--port", "0", "--worker", &format!("127.0.0.1:{port}"), "--gpu-layers", "4"])
        .env_remove("SIROCCO_API_KEY")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "exits with an error, not a signal: {stderr}");
    assert!(stderr.contains(&format!("worker 127.0.0.1:{port}: cannot connect")), "{stderr}");
}

/// The worker killed while it computes half of an answer's layers: the answer ends with a
/// clear error naming it, `sirocco serve` keeps running (the model ran in an engine process of
/// its own, which ggml-rpc aborted), the model is announced as unloaded, a request while the
/// worker is gone is refused plainly, and once a worker is back the model loads and answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_answer_is_a_clear_error_and_the_server_lives_on() {
    let port = free_port();
    let endpoint = format!("127.0.0.1:{port}");
    let mut worker = worker(port);
    // The fixtures as the library: the model can be loaded again on demand, by name.
    let library = fixtures().to_string_lossy().into_owned();
    let (mut server, base, log) = serve_logged(&[
        "--worker".into(),
        endpoint.clone(),
        "--gpu-layers".into(),
        "15".into(),
        "--dir".into(),
        library,
    ]);
    let client = reqwest::Client::new();
    let models: serde_json::Value = client.get(format!("{base}/models")).send().await.unwrap().json().await.unwrap();
    let model = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["id"].as_str())
        .find(|id| id.starts_with("SmolLM2-135M-Instruct.Q4_1"))
        .unwrap_or_else(|| panic!("{models}"))
        .to_owned();
    let long = serde_json::json!({
        "model": model,
        "messages": [{"role": "user", "content": "Count from one to a thousand in words."}],
        "max_tokens": 400, "ignore_eos": true, "temperature": 0, "stream": true,
    });
    let mut stream = client.post(format!("{base}/chat/completions")).json(&long).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let mut body = String::new();
    while !body.contains("\"content\"") {
        let chunk = stream.chunk().await.unwrap().expect("the answer streams before the worker goes");
        body.push_str(&String::from_utf8_lossy(&chunk));
    }
    worker.0.kill().unwrap();
    worker.0.wait().unwrap();
    while let Some(chunk) = stream.chunk().await.unwrap() {
        body.push_str(&String::from_utf8_lossy(&chunk));
    }
    let error = body
        .lines()
        .find(|l| l.contains("\"error\""))
        .unwrap_or_else(|| panic!("the stream ends with an error: {body}"));
    assert!(error.contains(&endpoint) && error.contains("stopped answering"), "the error names the machine: {error}");
    assert!(!body.contains("\"finish_reason\":\"length\""), "the answer was not finished: {body}");

    assert!(server.0.try_wait().unwrap().is_none(), "sirocco serve is still running");
    let unloaded = said(&log, "unloaded ");
    assert!(unloaded.contains(&endpoint), "{unloaded}");
    let models = client.get(format!("{base}/models")).send().await.unwrap();
    assert_eq!(models.status(), 200, "the server still answers");

    // The worker is gone: the model cannot be loaded on it, and the refusal says why.
    let short = serde_json::json!({"model": model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4, "temperature": 0});
    let refused = client.post(format!("{base}/chat/completions")).json(&short).send().await.unwrap();
    let (status, text) = (refused.status(), refused.text().await.unwrap());
    assert!(!status.is_success(), "{status} {text}");
    assert!(text.contains(&endpoint) && text.contains("cannot connect"), "{status} {text}");

    // A worker back on that address: the model loads again and answers.
    let _back = worker_at(None, "127.0.0.1", port);
    let answered = client.post(format!("{base}/chat/completions")).json(&short).send().await.unwrap();
    let (status, text) = (answered.status(), answered.text().await.unwrap());
    assert_eq!(status, 200, "{text}");
    assert!(server.0.try_wait().unwrap().is_none());
}

/// A second host: a network namespace joined to this one by a veth pair, with its own address.
/// Removed when dropped (its processes are killed first by their own guards).
struct Netns {
    name: String,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("the ip command (iproute2) runs");
    assert!(
        out.status.success(),
        "ip {args:?}: {} (network namespaces need root)",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Netns {
    /// `10.77.<n>.1` here, `10.77.<n>.2` there.
    fn new(n: u8) -> Self {
        let name = format!("sirocco-test-{}-{n}", std::process::id());
        let (here, there) =
            (format!("sv{n}h{}", std::process::id() % 10000), format!("sv{n}t{}", std::process::id() % 10000));
        ip(&["netns", "add", &name]);
        let ns = Self { name };
        ip(&["link", "add", &here, "type", "veth", "peer", "name", &there]);
        ip(&["link", "set", &there, "netns", &ns.name]);
        ip(&["addr", "add", &format!("10.77.{n}.1/24"), "dev", &here]);
        ip(&["link", "set", &here, "up"]);
        ip(&["-n", &ns.name, "addr", "add", &format!("10.77.{n}.2/24"), "dev", &there]);
        ip(&["-n", &ns.name, "link", "set", &there, "up"]);
        ip(&["-n", &ns.name, "link", "set", "lo", "up"]);
        ns
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace deletes its end of the pair, and with it ours.
        let _ = Command::new("ip").args(["netns", "delete", &self.name]).status();
    }
}

/// The worker on another host (its own network namespace, reached over veth), the offload
/// left to the planner: every layer goes there, and the text is the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layers_on_a_worker_in_another_network_namespace_give_the_same_greedy_text() {
    let (local, base) = serve(&[]);
    let expected = greedy(&base).await;
    drop(local);

    let ns = Netns::new(1);
    // Beyond loopback only when asked explicitly, and it says what that exposes.
    let refused = Command::new("ip")
        .args(["netns", "exec", &ns.name, env!("CARGO_BIN_EXE_sirocco"), "worker", "--host", "10.77.1.2"])
        .output()
        .unwrap();
    let refusal = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "a worker beyond loopback without --allow-unauthenticated must not start");
    assert!(refusal.contains("--allow-unauthenticated") && refusal.contains("no authentication"), "{refusal}");
    let (worker, warning) = worker_at(Some(&ns.name), "10.77.1.2", 50052);
    assert!(warning.contains("no authentication"), "beyond loopback the worker warns: {warning:?}");

    // No --gpu-layers: the planner's fit across this machine and the worker's memory, which
    // holds all of SmolLM2.
    let (offloaded, base, log) = serve_logged(&["--worker".into(), "10.77.1.2:50052".into()]);
    let planned = said(&log, "planned: ");
    assert_eq!(planned, "planned: 31 of 31 layers offloaded, 31 of them to other machines' devices");
    assert_eq!(greedy(&base).await, expected, "greedy text with every layer on the other host");
    drop(offloaded);
    drop(worker);
}
