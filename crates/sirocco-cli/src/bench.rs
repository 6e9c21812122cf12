//! `sirocco bench`: the engine next to llama.cpp's own tools on the same model, threads and
//! flash-attention setting, in one run:
//! - prefill (512 tokens) and greedy decode (128 tokens) against `llama-bench`;
//! - decode with a full sampler chain against `llama-completion` running the same chain;
//! - time to first token of a follow-up turn in a ~4,000-token conversation with and without
//!   prefix reuse, against llama-bench's prefill of the same new tokens at the same depth.
//!
//! Rounds are interleaved (engine, tool, tool, engine …) so that drift in the machine's speed
//! hits both sides alike; the first round warms up and is dropped; medians are reported, and
//! each ratio is the median of the pairs' own ratios (with their range, to show the noise).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use sirocco_engine::hardware::Hardware;
use sirocco_engine::FlashAttention;
use sirocco_engine::{ChatMessage, Engine, GenerateRequest, GenerationStats, LoadParams, Role, SamplingParams};

const PREFILL_TOKENS: usize = 512;
const DECODE_TOKENS: u32 = 128;
/// Prefill measurements a round, each side.
const PREFILL_PAIRS: usize = 2;
/// Greedy-decode measurements a round, each side.
const DECODE_PAIRS: usize = 3;
/// The prompt of the sampler-chain run, for both sides.
const CHAIN_PROMPT: &str = "Tell me a story about the sea.";

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The ratio of two interleaved series: the median of each round's own ratio (both sides
/// measured seconds apart, so a slow spell of the machine cancels out), with the lowest and
/// highest round.
fn paired_ratio(ours: &[f64], theirs: &[f64]) -> (f64, f64, f64) {
    let ratios: Vec<f64> = ours.iter().zip(theirs).map(|(a, b)| a / b).collect();
    let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let high = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (median(ratios), low, high)
}

async fn run_once(engine: &Engine, request: GenerateRequest) -> Result<GenerationStats, String> {
    let mut generation = engine.generate(request).map_err(|e| e.to_string())?;
    sirocco_engine::collect(&mut generation, |_| {}).await.result().cloned()
}

/// A plain completion's prompt tokens, as the engine reads them (BOS, control-token text parsed).
async fn tokenize(engine: &Engine, text: &str) -> Result<Vec<i32>, String> {
    engine.tokenize(text.to_owned(), true, true).await.map_err(|e| e.to_string())
}

fn shared_prefix(a: &[i32], b: &[i32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn greedy(max_tokens: u32) -> SamplingParams {
    SamplingParams { temperature: 0.0, repeat_penalty: 1.0, max_tokens, ignore_eos: true, ..SamplingParams::default() }
}

/// The full chain: penalties → top-k → top-p → min-p → temperature → distribution.
fn full_chain() -> SamplingParams {
    SamplingParams {
        temperature: 0.8,
        top_k: 40,
        top_p: 0.95,
        min_p: 0.05,
        repeat_penalty: 1.1,
        presence_penalty: 0.1,
        frequency_penalty: 0.1,
        penalty_last_n: 64,
        seed: 42,
        max_tokens: DECODE_TOKENS,
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

/// llama.cpp's tools, built from the sources llama-cpp-sys-2 vendors.
struct Tools {
    dir: PathBuf,
    model: PathBuf,
    threads: u32,
    gpu_layers: u32,
    /// The worker llama.cpp's tools offload to (`--rpc`; not Sirocco's: a worker serves one
    /// machine at a time).
    rpc: Option<String>,
}

impl Tools {
    fn run(&self, tool: &str, args: &[String]) -> Result<std::process::Output, String> {
        let bin = self.dir.join(tool);
        let out = Command::new(&bin)
            .args(["-m".to_owned(), self.model.to_string_lossy().into_owned()])
            .args(["-t".to_owned(), self.threads.to_string()])
            .args(["-ngl".to_owned(), self.gpu_layers.to_string()])
            .args(self.rpc.iter().flat_map(|w| ["--rpc".to_owned(), w.clone()]))
            .args(args)
            .output()
            .map_err(|e| format!("could not run {}: {e}", bin.display()))?;
        if !out.status.success() {
            return Err(format!("{tool} failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        Ok(out)
    }

    /// One llama-bench measurement (its own warm-up, one repetition): tokens per second.
    fn llama_bench(&self, prompt: usize, generate: u32, depth: usize) -> Result<f64, String> {
        let args = [
            "-p",
            &prompt.to_string(),
            "-n",
            &generate.to_string(),
            "-d",
            &depth.to_string(),
            "-fa",
            "1",
            "-r",
            "1",
            "-o",
            "json",
        ]
        .map(str::to_owned);
        let out = self.run("llama-bench", &args)?;
        let results: serde_json::Value =
            serde_json::from_slice(&out.stdout).map_err(|e| format!("llama-bench printed no JSON: {e}"))?;
        results[0]["avg_ts"].as_f64().ok_or_else(|| "llama-bench JSON has no avg_ts".into())
    }

    /// llama-completion generating 128 tokens with `chain`: decode tokens per second with
    /// sampling included (eval runs / (total − prompt eval) from its performance report).
    fn completion_chain(&self, chain: &SamplingParams) -> Result<f64, String> {
        let args = [
            "-p",
            CHAIN_PROMPT,
            "-n",
            &chain.max_tokens.to_string(),
            "--ignore-eos",
            "-no-cnv",
            "-fa",
            "on",
            "--temp",
            &chain.temperature.to_string(),
            "--top-k",
            &chain.top_k.to_string(),
            "--top-p",
            &chain.top_p.to_string(),
            "--min-p",
            &chain.min_p.to_string(),
            "--repeat-penalty",
            &chain.repeat_penalty.to_string(),
            "--presence-penalty",
            &chain.presence_penalty.to_string(),
            "--frequency-penalty",
            &chain.frequency_penalty.to_string(),
            "--repeat-last-n",
            &chain.penalty_last_n.to_string(),
            "-s",
            &chain.seed.to_string(),
            "--samplers",
            "penalties;top_k;top_p;min_p;temperature",
        ]
        .map(str::to_owned);
        let out = self.run("llama-completion", &args)?;
        let log = String::from_utf8_lossy(&out.stderr);
        let field = |label: &str| -> Option<(f64, Option<f64>)> {
            let line = log.lines().find(|l| l.contains(&format!(" {label} time =")))?;
            let after = line.split_once(" time =")?.1;
            let ms = after.split_whitespace().next()?.parse().ok()?;
            let count = after.split_once('/').and_then(|(_, r)| r.split_whitespace().next()?.parse().ok());
            Some((ms, count))
        };
        let (total, _) = field("total").ok_or("no total time in llama-completion's report")?;
        let (prompt, _) = field("prompt eval").ok_or("no prompt eval time in llama-completion's report")?;
        let eval = log
            .lines()
            .find(|l| l.contains(" eval time =") && !l.contains("prompt eval"))
            .and_then(|l| l.split_once('/')?.1.split_whitespace().next()?.parse::<f64>().ok())
            .ok_or("no eval runs in llama-completion's report")?;
        Ok(eval / ((total - prompt) / 1e3))
    }
}

/// Where the layers go besides this machine's CPU: workers for Sirocco and for llama.cpp's tools
/// (one each, on the same kind of host).
pub struct Offload {
    pub gpu_layers: u32,
    pub worker: Option<String>,
    pub llama_rpc: Option<String>,
}

pub async fn run(
    model: &Path,
    threads: Option<u32>,
    offload: Offload,
    reps: usize,
    tools_dir: Option<&Path>,
) -> Result<(), String> {
    let threads = threads.unwrap_or_else(|| Hardware::detect().physical_cores);
    let gpu_layers = offload.gpu_layers;
    println!("model: {}", model.display());
    println!(
        "threads: {threads}, GPU layers: {gpu_layers}, flash attention: on (both), rounds: {reps} + 1 warm-up, medians"
    );
    if let Some(worker) = &offload.worker {
        crate::worker::add_all(std::slice::from_ref(worker))?;
        println!(
            "offloaded layers: sirocco's on worker {worker}, llama.cpp's on {}",
            offload.llama_rpc.as_deref().unwrap_or("no worker")
        );
    }

    let engine = Engine::start();
    let states = std::env::temp_dir().join(format!("sirocco-bench-states-{}", std::process::id()));
    let params = LoadParams {
        context_length: Some(8192),
        threads: Some(threads),
        gpu_layers,
        flash_attention: FlashAttention::On,
        // One slot: llama-bench measures one sequence, and "a different conversation" below
        // must evict the previous one.
        parallel: 1,
        state_dir: Some(states.clone()),
        ..LoadParams::default()
    };
    engine.load(model, params, |_| {}, Arc::new(AtomicBool::new(false))).await.map_err(|e| e.to_string())?;
    let tools = tools_dir.map(|dir| Tools {
        dir: dir.to_path_buf(),
        model: model.to_path_buf(),
        threads,
        gpu_layers,
        rpc: offload.llama_rpc.clone(),
    });

    let (mut sir_pp, mut sir_tg, mut sir_chain) = (Vec::new(), Vec::new(), Vec::new());
    let (mut lb_pp, mut lb_tg, mut lc_chain) = (Vec::new(), Vec::new(), Vec::new());
    let mut prefill_tokens = 0;
    // The prompt of the last request: the one context slot keeps what the next one shares.
    let mut last_prompt: Vec<i32> = Vec::new();
    let chain_tokens = tokenize(&engine, CHAIN_PROMPT).await?;
    for round in 0..=reps {
        let keep = round > 0;
        // Like with like: plain completions (no chat template), so Sirocco's prompts are the
        // very tokens llama.cpp's tools are given, and each tool measures at the depth Sirocco's
        // run starts from.
        // Prefill: a ~512-token prompt computed from scratch (all but what it shares with the
        // prompt before it: the BOS). PREFILL_PAIRS pairs a round, in alternating order (see
        // the decode below).
        for pair in 0..PREFILL_PAIRS {
            let text = filler(round * PREFILL_PAIRS + pair, PREFILL_TOKENS - 4);
            let tokens = tokenize(&engine, &text).await?;
            let depth = shared_prefix(&last_prompt, &tokens).min(tokens.len() - 1);
            prefill_tokens = tokens.len() - depth;
            let tool = |tools: Option<&Tools>| tools.map(|t| t.llama_bench(prefill_tokens, 0, depth)).transpose();
            let tool_first = pair % 2 == 1;
            let before = if tool_first { tool(tools.as_ref())? } else { None };
            let stats = run_once(&engine, GenerateRequest::completion(text, greedy(1))).await?;
            if (stats.prompt_tokens, stats.cached_tokens) != (tokens.len(), depth) {
                return Err(format!(
                    "the prefill read {} of {} tokens, llama-bench was told {prefill_tokens} of {}",
                    stats.prompt_tokens - stats.cached_tokens,
                    stats.prompt_tokens,
                    tokens.len()
                ));
            }
            let theirs = if tool_first { before } else { tool(tools.as_ref())? };
            if keep {
                sir_pp.push(stats.prefill_tokens_per_second);
                lb_pp.extend(theirs);
            }
            last_prompt = tokens;
        }

        // Greedy decode: 128 tokens after a short prompt (llama-bench's tg128 at that depth).
        // The shortest and noisiest measurement: DECODE_PAIRS pairs a round, each pair in the
        // other order than the one before (engine–tool, tool–engine, …), so a machine that
        // speeds up or slows down within a round favours neither side.
        for pair in 0..DECODE_PAIRS {
            let prompt = format!("Tell me a story, number {round}.{pair}.");
            let depth = tokenize(&engine, &prompt).await?.len();
            let tool_first = (round * DECODE_PAIRS + pair) % 2 == 1;
            let tool = |tools: Option<&Tools>| tools.map(|t| t.llama_bench(0, DECODE_TOKENS, depth)).transpose();
            let before = if tool_first { tool(tools.as_ref())? } else { None };
            let stats = run_once(&engine, GenerateRequest::completion(prompt, greedy(DECODE_TOKENS))).await?;
            if stats.prompt_tokens != depth {
                return Err(format!(
                    "the decode prompt took {} tokens, llama-bench was told {depth}",
                    stats.prompt_tokens
                ));
            }
            let theirs = if tool_first { before } else { tool(tools.as_ref())? };
            if keep {
                sir_tg.push(stats.decode_tokens_per_second);
                lb_tg.extend(theirs);
            }
        }

        // Decode with the full sampler chain: the same prompt and chain as llama-completion's
        // (the order alternating by round, as above).
        let chain = |tools: Option<&Tools>| tools.map(|t| t.completion_chain(&full_chain())).transpose();
        let before = if round % 2 == 1 { chain(tools.as_ref())? } else { None };
        let stats = run_once(&engine, GenerateRequest::completion(CHAIN_PROMPT, full_chain())).await?;
        let theirs = if round % 2 == 1 { before } else { chain(tools.as_ref())? };
        if keep {
            sir_chain.push(stats.decode_tokens_per_second);
            lc_chain.extend(theirs);
        }
        last_prompt = chain_tokens.clone();
    }
    let report = |what: &str, ours: &[f64], theirs: &[f64], tool: &str| {
        println!("sirocco {what}: {:.1} tok/s", median(ours.to_vec()));
        if !theirs.is_empty() {
            println!("{tool} {what}: {:.1} tok/s", median(theirs.to_vec()));
            let (ratio, low, high) = paired_ratio(ours, theirs);
            println!("{what} ratio (sirocco / {tool}): {ratio:.3} (rounds {low:.3}–{high:.3})");
        }
    };
    report(&format!("prefill ({prefill_tokens} tokens)"), &sir_pp, &lb_pp, "llama-bench");
    report(&format!("decode ({DECODE_TOKENS} tokens, greedy)"), &sir_tg, &lb_tg, "llama-bench");
    report(&format!("decode ({DECODE_TOKENS} tokens, full sampler chain)"), &sir_chain, &lc_chain, "llama-completion");
    if tools.is_none() {
        println!("(no --llama-tools given: llama.cpp's figures and the ratios are skipped)");
    }
    if offload.worker.is_some() {
        // Prefix reuse is this machine's cache either way; over a worker the figures above say it.
        let _ = std::fs::remove_dir_all(&states);
        return Ok(());
    }
    let result = follow_up_ttft(&engine, reps, tools.as_ref()).await;
    let _ = std::fs::remove_dir_all(&states);
    result
}

/// A ~4,000-token conversation; the time to first token of one more turn, with the KV cache
/// kept from the previous turn and computed from scratch, against the prefill of the new
/// tokens alone (on an empty context, and by llama-bench at the same depth).
async fn follow_up_ttft(engine: &Engine, reps: usize, tools: Option<&Tools>) -> Result<(), String> {
    let mut conversation = Vec::new();
    for turn in 0..8 {
        conversation.push(ChatMessage::new(Role::User, filler(100 + turn, 240)));
        conversation.push(ChatMessage::new(Role::Assistant, filler(200 + turn, 240)));
    }
    let new_turn = ChatMessage::new(Role::User, "Now summarise everything above in one sentence.");
    let mut follow_up = conversation.clone();
    follow_up.push(new_turn.clone());
    let request = |messages: Vec<ChatMessage>| GenerateRequest::new(messages, greedy(1));
    let keyed = |messages: Vec<ChatMessage>| GenerateRequest { cache_key: Some("bench".into()), ..request(messages) };

    let (mut reused, mut cold, mut alone, mut at_depth, mut restored, mut rendering) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut depth, mut new_tokens) = (0, 0);
    for round in 0..=reps {
        // The conversation so far; another conversation takes the slot (saving it to disk);
        // the follow-up comes back to it: read from disk, then the new turn computed.
        let before = run_once(engine, keyed(conversation.clone())).await?;
        run_once(engine, request(vec![ChatMessage::new(Role::User, filler(800 + round, 8))])).await?;
        let back = run_once(engine, keyed(follow_up.clone())).await?;
        // (The conversation's prompt ends with the assistant's cue, which the follow-up replaces.)
        if back.cached_tokens * 10 < before.prompt_tokens * 9 {
            return Err(format!(
                "the saved state was not restored ({} of {} tokens)",
                back.cached_tokens, before.prompt_tokens
            ));
        }
        // The same follow-up with the conversation in memory.
        run_once(engine, keyed(conversation.clone())).await?;
        let warm = run_once(engine, keyed(follow_up.clone())).await?;
        // Evict it (a different conversation), then the same follow-up from scratch.
        run_once(engine, request(vec![ChatMessage::new(Role::User, filler(900 + round, 8))])).await?;
        let fresh = run_once(engine, request(follow_up.clone())).await?;
        // The new turn's tokens alone, on an empty context.
        run_once(engine, request(vec![ChatMessage::new(Role::User, filler(950 + round, 8))])).await?;
        let only = run_once(engine, request(vec![new_turn.clone()])).await?;
        depth = warm.cached_tokens;
        new_tokens = warm.prompt_tokens - warm.cached_tokens;
        // What TTFT holds besides the model: the conversation rendered by its template and
        // tokenized, as every request is (llama-bench is handed tokens).
        let started = std::time::Instant::now();
        engine.prompt_tokens_for(keyed(follow_up.clone())).await.map_err(|e| e.to_string())?;
        let prepared = started.elapsed().as_secs_f64() * 1e3;
        if let Some(t) = tools {
            let tps = t.llama_bench(new_tokens, 0, depth)?;
            if round > 0 {
                at_depth.push(new_tokens as f64 / tps * 1e3)
            }
        }
        if round > 0 {
            restored.push(back.time_to_first_token_ms);
            reused.push(warm.time_to_first_token_ms);
            cold.push(fresh.time_to_first_token_ms);
            alone.push(only.time_to_first_token_ms);
            rendering.push(prepared);
        }
    }
    let model_only: Vec<f64> = reused.iter().zip(&rendering).map(|(t, r)| t - r).collect();
    let paired_model = (!at_depth.is_empty()).then(|| paired_ratio(&model_only, &at_depth));
    let rendering = median(rendering);
    let paired = (!at_depth.is_empty()).then(|| paired_ratio(&reused, &at_depth));
    let (reused, cold, alone, restored) = (median(reused), median(cold), median(alone), median(restored));
    println!("follow-up TTFT at {} tokens, prefix reuse: {reused:.1} ms", depth + new_tokens);
    println!("follow-up TTFT at {} tokens, no reuse: {cold:.1} ms", depth + new_tokens);
    println!("speed-up from prefix reuse: {:.1}x", cold / reused);
    println!("follow-up TTFT after restoring the saved state from disk: {restored:.1} ms");
    println!("restored ratio (restored / in-memory follow-up): {:.2} (target ≤ 2)", restored / reused);
    println!("new-turn tokens alone TTFT (empty context): {alone:.1} ms");
    println!(
        "(the difference: attention over the {depth} cached tokens, which llama-bench at the same depth pays too)"
    );
    if let Some((ratio, low, high)) = paired {
        println!("llama-bench prefill of the {new_tokens} new tokens at depth {depth}: {:.1} ms", median(at_depth));
        println!("follow-up ratio (reuse / llama-bench new tokens at the same depth): {ratio:.2} (rounds {low:.2}–{high:.2}; target ≤ 1.1)");
    }
    println!(
        "of the follow-up's TTFT, rendering and tokenizing the {} -token conversation: {rendering:.1} ms",
        depth + new_tokens
    );
    if let Some((ratio, low, high)) = paired_model {
        println!("follow-up ratio without it (the model's part / llama-bench): {ratio:.2} (rounds {low:.2}–{high:.2})");
    }
    Ok(())
}
