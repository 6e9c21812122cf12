//! `sirocco bench`: prefill and decode speed of the engine next to llama-bench's, on the same
//! model and threads in the same run, as medians; and time to first token of a follow-up turn
//! in a long conversation with and without prefix reuse.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use sirocco_engine::hardware::Hardware;
use sirocco_engine::{
    ChatMessage, Engine, GenerateRequest, GenerationEvent, GenerationStats, LoadParams, Role,
    SamplingParams,
};

const PREFILL_TOKENS: usize = 512;
const DECODE_TOKENS: u32 = 128;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

async fn run_once(engine: &Engine, request: GenerateRequest) -> Result<GenerationStats, String> {
    let mut generation = engine.generate(request).map_err(|e| e.to_string())?;
    while let Some(event) = generation.events.recv().await {
        match event {
            GenerationEvent::Done { stats } => return Ok(stats),
            GenerationEvent::Error { message } => return Err(message),
            GenerationEvent::Text { .. } => {}
        }
    }
    Err("the engine stopped".into())
}

fn greedy(max_tokens: u32) -> SamplingParams {
    SamplingParams {
        temperature: 0.0,
        repeat_penalty: 1.0,
        max_tokens,
        ignore_eos: true,
        ..SamplingParams::default()
    }
}

/// A user message of about `tokens` tokens, different for each `variant` from its first word
/// (so no run reuses another's cache).
fn filler(variant: usize, tokens: usize) -> String {
    let words = ["river", "stone", "lantern", "orchard", "copper", "meadow", "harbor", "violet"];
    let mut text = format!("Variant {variant}:");
    for i in 0..tokens {
        text.push(' ');
        text.push_str(words[(i * 7 + variant) % words.len()]);
    }
    text
}

pub async fn run(model: &Path, threads: Option<u32>, reps: usize, llama_bench: Option<&Path>) -> Result<(), String> {
    let threads = threads.unwrap_or_else(|| Hardware::detect().physical_cores);
    println!("model: {}", model.display());
    println!("threads: {threads}, repetitions: {reps} (medians)");

    let engine = Engine::start();
    let params = LoadParams { context_length: Some(8192), threads: Some(threads), ..LoadParams::default() };
    engine.load(model, params, |_| {}, Arc::new(AtomicBool::new(false))).await.map_err(|e| e.to_string())?;

    // Prefill: a ~512-token prompt computed from scratch each time.
    let mut prefill = Vec::new();
    let mut prefill_tokens = 0;
    for rep in 0..=reps {
        // Template tokens come on top of the filler; aim a little under 512.
        let messages = vec![ChatMessage::new(Role::User, filler(rep, PREFILL_TOKENS - 12))];
        let stats = run_once(&engine, GenerateRequest::new(messages, greedy(1))).await?;
        prefill_tokens = stats.prompt_tokens - stats.cached_tokens;
        if rep > 0 {
            prefill.push(stats.prefill_tokens_per_second); // rep 0 warms up
        }
    }
    // Decode: 128 greedy tokens after a short prompt (depth ~0, like llama-bench's tg128).
    let mut decode = Vec::new();
    for rep in 0..=reps {
        let messages = vec![ChatMessage::new(Role::User, format!("Tell me a story, number {rep}."))];
        let stats = run_once(&engine, GenerateRequest::new(messages, greedy(DECODE_TOKENS))).await?;
        if rep > 0 {
            decode.push(stats.decode_tokens_per_second);
        }
    }
    let (sir_pp, sir_tg) = (median(prefill), median(decode));
    println!("sirocco prefill ({prefill_tokens} tokens): {sir_pp:.1} tok/s");
    println!("sirocco decode ({DECODE_TOKENS} tokens, greedy): {sir_tg:.1} tok/s");

    if let Some(bin) = llama_bench {
        let (lb_pp, lb_tg) = llama_bench_medians(bin, model, threads, reps)?;
        println!("llama-bench prefill (pp{PREFILL_TOKENS}): {lb_pp:.1} tok/s");
        println!("llama-bench decode (tg{DECODE_TOKENS}): {lb_tg:.1} tok/s");
        println!("prefill ratio (sirocco / llama-bench): {:.3}", sir_pp / lb_pp);
        println!("decode ratio (sirocco / llama-bench): {:.3}", sir_tg / lb_tg);
    } else {
        println!("(no --llama-bench given: ratios skipped)");
    }

    follow_up_ttft(&engine, reps).await
}

/// A ~4,000-token conversation; the time to first token of one more turn, with the KV cache
/// kept from the previous turn and computed from scratch, and of the new turn's tokens alone.
async fn follow_up_ttft(engine: &Engine, reps: usize) -> Result<(), String> {
    let mut conversation = Vec::new();
    for turn in 0..8 {
        conversation.push(ChatMessage::new(Role::User, filler(100 + turn, 240)));
        conversation.push(ChatMessage::new(Role::Assistant, filler(200 + turn, 240)));
    }
    let new_turn = ChatMessage::new(Role::User, "Now summarise everything above in one sentence.");
    let mut follow_up = conversation.clone();
    follow_up.push(new_turn.clone());
    let request = |messages: Vec<ChatMessage>| GenerateRequest::new(messages, greedy(1));

    let (mut reused, mut cold, mut alone) = (Vec::new(), Vec::new(), Vec::new());
    let mut depth = 0;
    for rep in 0..=reps {
        // Warm the cache with the conversation so far, then ask the follow-up.
        run_once(engine, request(conversation.clone())).await?;
        let warm = run_once(engine, request(follow_up.clone())).await?;
        // Evict it (a different conversation), then the same follow-up from scratch.
        run_once(engine, request(vec![ChatMessage::new(Role::User, filler(900 + rep, 8))])).await?;
        let fresh = run_once(engine, request(follow_up.clone())).await?;
        // The new turn's tokens alone, on an empty context.
        run_once(engine, request(vec![ChatMessage::new(Role::User, filler(950 + rep, 8))])).await?;
        let only = run_once(engine, request(vec![new_turn.clone()])).await?;
        depth = warm.prompt_tokens;
        if rep > 0 {
            reused.push(warm.time_to_first_token_ms);
            cold.push(fresh.time_to_first_token_ms);
            alone.push(only.time_to_first_token_ms);
        }
    }
    let (reused, cold, alone) = (median(reused), median(cold), median(alone));
    println!("follow-up TTFT at {depth} tokens, prefix reuse: {reused:.1} ms");
    println!("follow-up TTFT at {depth} tokens, no reuse: {cold:.1} ms");
    println!("new-turn tokens alone TTFT: {alone:.1} ms");
    println!("follow-up ratio (reuse / new tokens alone): {:.2}", reused / alone);
    println!("speed-up from prefix reuse: {:.1}x", cold / reused);
    Ok(())
}

/// Runs llama-bench (pp512 and tg128 separately) and returns the medians of its samples.
fn llama_bench_medians(bin: &Path, model: &Path, threads: u32, reps: usize) -> Result<(f64, f64), String> {
    let run = |p: usize, n: u32| -> Result<f64, String> {
        let out = Command::new(bin)
            .args(["-m", &model.to_string_lossy(), "-t", &threads.to_string()])
            .args(["-p", &p.to_string(), "-n", &n.to_string(), "-r", &reps.to_string(), "-o", "json"])
            .output()
            .map_err(|e| format!("could not run {}: {e}", bin.display()))?;
        if !out.status.success() {
            return Err(format!("llama-bench failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let results: serde_json::Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("llama-bench printed no JSON: {e}"))?;
        let samples = results[0]["samples_ts"]
            .as_array()
            .ok_or("llama-bench JSON has no samples_ts")?
            .iter()
            .filter_map(serde_json::Value::as_f64)
            .collect();
        Ok(median(samples))
    };
    Ok((run(PREFILL_TOKENS, 0)?, run(0, DECODE_TOKENS)?))
}
