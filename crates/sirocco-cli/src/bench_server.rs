//! `sirocco bench-server`: decode speed over the OpenAI API (SSE on loopback, one client) against
//! the same generation taken in-process, same model, prompt and token count, interleaved rounds;
//! then the aggregate speed of several concurrent streams (continuous batching) against one.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use sirocco_engine::{ChatMessage, Engine, GenerateRequest, GenerationEvent, LoadParams, Role, SamplingParams};
use sirocco_host::{LoadedBy, ModelHost, ModelSpec};
use sirocco_server::ServerConfig;

const PROMPT: &str = "Write a long story about a lighthouse keeper.";

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Tokens per second from the first streamed piece to the last.
async fn in_app(engine: &Engine, tokens: u32) -> Result<f64, String> {
    let sampling =
        SamplingParams { temperature: 0.0, max_tokens: tokens, ignore_eos: true, ..SamplingParams::default() };
    let mut generation = engine
        .generate(GenerateRequest::new(vec![ChatMessage::new(Role::User, PROMPT)], sampling))
        .map_err(|e| e.to_string())?;
    let mut first = None;
    let mut last = Instant::now();
    let answer = sirocco_engine::collect(&mut generation, |event| {
        if let GenerationEvent::Text { .. } = event {
            first.get_or_insert_with(Instant::now);
            last = Instant::now();
        }
    })
    .await;
    let stats = answer.result()?;
    let span = last.duration_since(first.ok_or("no text")?).as_secs_f64();
    Ok((stats.generated_tokens.saturating_sub(1)) as f64 / span)
}

/// Tokens per second of one stream, from its first piece to its last.
async fn over_sse(base: &str, tokens: u32) -> Result<f64, String> {
    let (generated, first, last) = stream(base, tokens).await?;
    Ok(generated.saturating_sub(1) as f64 / last.duration_since(first).as_secs_f64())
}

/// Tokens per second of `clients` streams together: all their tokens over the wall time from
/// sending the requests to the last `[DONE]`.
async fn aggregate(base: &str, tokens: u32, clients: usize) -> Result<f64, String> {
    let started = Instant::now();
    let runs = futures_util::future::join_all((0..clients).map(|_| stream(base, tokens))).await;
    let mut total = 0;
    for run in runs {
        total += run?.0;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// One streamed chat completion: tokens generated, first and last text piece.
async fn stream(base: &str, tokens: u32) -> Result<(usize, Instant, Instant), String> {
    use futures_util::StreamExt;
    let body = serde_json::json!({
        "messages": [{"role": "user", "content": PROMPT}], "stream": true, "temperature": 0, "repeat_penalty": 1.1,
        "max_tokens": tokens, "ignore_eos": true, "stream_options": {"include_usage": true}
    });
    let response = reqwest::Client::new()
        .post(format!("{base}/chat/completions"))
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let mut stream = response.bytes_stream();
    let (mut first, mut last, mut generated, mut buffer) = (None, Instant::now(), 0usize, String::new());
    while let Some(chunk) = stream.next().await {
        buffer.push_str(&String::from_utf8_lossy(&chunk.map_err(|e| e.to_string())?));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            let data = event.trim().trim_start_matches("data: ");
            if data == "[DONE]" {
                return Ok((generated, first.ok_or("no text")?, last));
            }
            let v: serde_json::Value = serde_json::from_str(data).map_err(|e| e.to_string())?;
            if v["choices"][0]["delta"]["content"].as_str().is_some_and(|c| !c.is_empty()) {
                first.get_or_insert_with(Instant::now);
                last = Instant::now();
            }
            if let Some(n) = v["usage"]["completion_tokens"].as_u64() {
                generated = n as usize;
            }
        }
    }
    Err("the stream ended without [DONE]".into())
}

const CLIENTS: usize = 4;

/// llama.cpp's own figure for the same work: `llama-batched-bench` decoding `sequences`
/// sequences of `prompt` + `generate` tokens at once vs one, same model, threads and context.
/// Returns (tokens per second generated with one sequence, with `sequences`), over the whole
/// run including the prompts, as the SSE figure is measured.
fn llama_batched(
    tools: &Path,
    model: &Path,
    threads: u32,
    context: u32,
    prompt: usize,
    generate: u32,
    sequences: usize,
) -> Result<(f64, f64), String> {
    let bin = tools.join("llama-batched-bench");
    let out = std::process::Command::new(&bin)
        .arg("-m")
        .arg(model)
        .args(["-c", &context.to_string(), "-b", "512", "-ub", "512", "-t", &threads.to_string()])
        .args(["-npp", &prompt.to_string(), "-ntg", &generate.to_string(), "-npl", &format!("1,{sequences}")])
        .output()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    if !out.status.success() {
        return Err(format!("llama-batched-bench failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    // Rows: | PP | TG | B | N_KV | T_PP s | S_PP t/s | T_TG s | S_TG t/s | T s | S t/s |
    let mut rate = std::collections::HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let cells: Vec<f64> = line.split('|').filter_map(|c| c.trim().parse().ok()).collect();
        if cells.len() == 10 {
            let (tg, b, total_secs) = (cells[1], cells[2], cells[8]);
            rate.insert(b as usize, tg * b / total_secs);
        }
    }
    match (rate.get(&1), rate.get(&sequences)) {
        (Some(&one), Some(&many)) => Ok((one, many)),
        _ => Err("could not read llama-batched-bench's table".into()),
    }
}

pub async fn run(model: &Path, tokens: u32, reps: usize, llama_tools: Option<&Path>) -> Result<(), String> {
    let params = LoadParams {
        // Room for every concurrent stream's prompt and answer in the shared cells.
        context_length: Some((tokens + 128) * CLIENTS as u32),
        parallel: CLIENTS as u32,
        ..LoadParams::default()
    };
    let host = ModelHost::default();
    let spec = ModelSpec { id: "bench".into(), path: model.to_path_buf(), params };
    let loaded =
        host.load(spec, LoadedBy::User, |_| {}, Arc::new(AtomicBool::new(false))).await.map_err(|e| e.to_string())?;
    let lease = host.lease("bench").await.map_err(|e| e.to_string())?;
    let engine = lease.engine().clone();
    let config = ServerConfig { addr: "127.0.0.1:0".parse().unwrap(), ..ServerConfig::default() };
    let server = sirocco_server::start(config, host.clone()).await.map_err(|e| e.to_string())?;
    let base = format!("http://{}/v1", server.addr);
    // Warm-up, then interleaved rounds.
    in_app(&engine, 16).await?;
    let (mut direct, mut sse) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        direct.push(in_app(&engine, tokens).await?);
        sse.push(over_sse(&base, tokens).await?);
    }
    let (d, s) = (median(direct), median(sse));
    println!("decode, {tokens} tokens, one client (median of {reps}, {} threads)", loaded.threads);
    println!("  in-app       {d:>8.1} tok/s");
    println!("  over SSE     {s:>8.1} tok/s   ratio {:.3} (target ≥ 0.98)", s / d);

    let (mut one, mut many) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        one.push(aggregate(&base, tokens, 1).await?);
        many.push(aggregate(&base, tokens, CLIENTS).await?);
    }
    let (o, m) = (median(one), median(many));
    println!("aggregate decode over SSE, {tokens} tokens per stream (median of {reps})");
    println!("  1 stream     {o:>8.1} tok/s");
    println!("  {CLIENTS} streams    {m:>8.1} tok/s   ratio {:.2} (target ≥ 2.5)", m / o);
    if let Some(tools) = llama_tools {
        let prompt = engine
            .prompt_tokens(vec![ChatMessage::new(Role::User, PROMPT)], None, None)
            .await
            .map_err(|e| e.to_string())?
            .len();
        let context = loaded.context_length;
        let (mut l1, mut lm) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            let (a, b) = llama_batched(tools, model, loaded.threads, context, prompt, tokens, CLIENTS)?;
            l1.push(a);
            lm.push(b);
        }
        let (l1, lm) = (median(l1), median(lm));
        println!("llama.cpp's llama-batched-bench, same model, threads and context ({prompt}-token prompts)");
        println!("  1 sequence   {l1:>8.1} tok/s");
        println!("  {CLIENTS} sequences  {lm:>8.1} tok/s   ratio {:.2} (this machine's ceiling)", lm / l1);
        println!("  Sirocco's {CLIENTS}-vs-1 ratio is {:.2} of llama.cpp's", (m / o) / (lm / l1));
        println!("  Sirocco's {CLIENTS} streams over SSE vs llama.cpp's {CLIENTS} sequences in-process: {:.2}", m / lm);
    }
    server.stop().await;
    drop(lease);
    host.unload_all().await;
    Ok(())
}
