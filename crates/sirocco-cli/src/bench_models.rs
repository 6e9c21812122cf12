//! `sirocco bench-models`: Continue's day — chat requests to one model interleaved with
//! fill-in-the-middle requests to another — over the server's HTTP API, three ways:
//! both models resident (the host keeps them), each model alone (the same requests, one model
//! loaded), and room for one model only (every switch unloads one and loads the other: what a
//! one-model server does). Mean latency per request, and the ratios.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use sirocco_engine::LoadParams;
use sirocco_host::{HostConfig, ModelHost, ModelSpec};
use sirocco_server::{OnDemand, ServerConfig};

const CHAT: &str = "chat";
const CODER: &str = "coder";

struct Served {
    server: sirocco_server::RunningServer,
    http: reqwest::Client,
}

async fn serve(chat: &Path, coder: &Path, max_models: usize) -> Result<Served, String> {
    let params = LoadParams { context_length: Some(2048), ..LoadParams::default() };
    let library = vec![
        ModelSpec { id: CHAT.into(), path: chat.to_path_buf(), params: params.clone() },
        ModelSpec { id: CODER.into(), path: coder.to_path_buf(), params },
    ];
    let on_demand = OnDemand {
        catalog: std::sync::Arc::new(move || {
            let library = library.clone();
            Box::pin(async move { library })
        }),
        idle_unload: None,
    };
    let host = ModelHost::new(HostConfig { max_models: Some(max_models), ..HostConfig::default() });
    let config =
        ServerConfig { addr: "127.0.0.1:0".parse().unwrap(), on_demand: Some(on_demand), ..ServerConfig::default() };
    let server = sirocco_server::start(config, host).await.map_err(|e| e.to_string())?;
    Ok(Served { server, http: reqwest::Client::new() })
}

impl Served {
    /// One request, timed to its last byte, with the server's own prefill and decode times.
    async fn request(&self, model: &str, i: usize) -> Result<Timed, String> {
        let (path, body) = if model == CHAT {
            (
                "/v1/chat/completions",
                json!({ "model": CHAT, "max_tokens": 16, "temperature": 0,
                "messages": [{ "role": "user", "content": format!("Write one sentence about the number {i}.") }] }),
            )
        } else {
            (
                "/v1/completions",
                json!({ "model": CODER, "max_tokens": 16, "temperature": 0,
                "prompt": format!("def f{i}(x):\n    return "), "suffix": "\n\nprint(f(1))\n" }),
            )
        };
        let started = Instant::now();
        let response = self
            .http
            .post(format!("http://{}{path}", self.server.addr))
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{model}: {status} {text}"));
        }
        let total = started.elapsed();
        let body: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let timings = &body["usage"]["timings"];
        let ms = |key: &str| timings[key].as_f64().ok_or_else(|| format!("{model}: no usage.timings.{key} in {text}"));
        Ok(Timed { total, prefill_ms: ms("prompt_ms")?, decode_ms: ms("predicted_ms")? })
    }
}

#[derive(Clone)]
struct Timed {
    total: Duration,
    prefill_ms: f64,
    decode_ms: f64,
}

fn mean_ms(times: &[Timed]) -> f64 {
    mean(times, |t| t.total.as_secs_f64() * 1000.0)
}

fn mean(times: &[Timed], f: impl Fn(&Timed) -> f64) -> f64 {
    times.iter().map(f).sum::<f64>() / times.len().max(1) as f64
}

pub async fn run(chat: &Path, coder: &Path, requests: usize) -> Result<(), String> {
    // Each model alone: the same requests, one model loaded (a warm-up request loads it).
    let (mut alone_chat, mut alone_coder) = (Vec::new(), Vec::new());
    for (model, times) in [(CHAT, &mut alone_chat), (CODER, &mut alone_coder)] {
        let served = serve(chat, coder, 1).await?;
        served.request(model, usize::MAX).await?;
        for i in 0..requests {
            times.push(served.request(model, i).await?);
        }
        served.server.stop().await;
    }
    // Both resident, interleaved (the warm-up loads both).
    let both = serve(chat, coder, 2).await?;
    both.request(CHAT, usize::MAX).await?;
    both.request(CODER, usize::MAX).await?;
    let (mut both_chat, mut both_coder) = (Vec::new(), Vec::new());
    for i in 0..requests {
        both_chat.push(both.request(CHAT, i).await?);
        both_coder.push(both.request(CODER, i).await?);
    }
    both.server.stop().await;
    // Room for one: every switch reloads.
    let one = serve(chat, coder, 1).await?;
    let mut reloading = Vec::new();
    for i in 0..requests.min(5) {
        reloading.push(one.request(CHAT, i).await?);
        reloading.push(one.request(CODER, i).await?);
    }
    one.server.stop().await;

    let alone = [alone_chat.as_slice(), alone_coder.as_slice()].concat();
    let interleaved = [both_chat.as_slice(), both_coder.as_slice()].concat();
    let (a, b, c) = (mean_ms(&alone), mean_ms(&interleaved), mean_ms(&reloading));
    println!("interleaved chat + fill-in-the-middle requests, 16 tokens each ({requests} of each)");
    println!("  each model alone           {a:>9.1} ms per request");
    println!("  both resident, interleaved {b:>9.1} ms per request   speed vs alone {:.3} (goal ≥ 0.95)", a / b);
    for (name, alone, both) in [("chat", &alone_chat, &both_chat), ("fill-in-the-middle", &alone_coder, &both_coder)] {
        println!(
            "    {name:<20} alone {:>6.1} ms (prefill {:>5.1}, decode {:>5.1})   interleaved {:>6.1} ms (prefill {:>5.1}, decode {:>5.1})",
            mean_ms(alone), mean(alone, |t| t.prefill_ms), mean(alone, |t| t.decode_ms),
            mean_ms(both), mean(both, |t| t.prefill_ms), mean(both, |t| t.decode_ms),
        );
    }
    println!("  room for one (reload each) {c:>9.1} ms per request   {:.1}× slower than both resident", c / b);
    Ok(())
}
