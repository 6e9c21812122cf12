//! With temperature 0 the engine produces exactly what llama.cpp's own `llama-completion`
//! produces, built from the same vendored llama.cpp (`tests/bench/build-llama-tools.sh`),
//! on the same model, prompt, threads and flash-attention setting.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use sirocco_engine::FlashAttention;
use sirocco_engine::{Engine, GenerateRequest, GenerationEvent, LoadParams, SamplingParams};

const TOKENS: u32 = 48;

fn tools() -> PathBuf {
    let dir = std::env::var_os("SIROCCO_LLAMA_TOOLS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap())
            .join(".cache/sirocco/llama-tools/llama-cpp-sys-2-0.1.161/build/bin")
    });
    assert!(
        dir.join("llama-completion").is_file(),
        "llama.cpp's tools are missing in {} — run tests/bench/build-llama-tools.sh",
        dir.display()
    );
    dir
}

fn llama_completion(model: &std::path::Path, prompt: &str) -> String {
    let out = Command::new(tools().join("llama-completion"))
        .args(["-m", &model.to_string_lossy(), "-p", prompt, "-n", &TOKENS.to_string()])
        .args(["--temp", "0", "--ignore-eos", "-no-cnv", "--no-display-prompt", "-fa", "on"])
        .args(["-t", "2", "-c", "2048", "-s", "1"])
        .output()
        .expect("run llama-completion");
    assert!(out.status.success(), "llama-completion failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

async fn sirocco(model: &std::path::Path, prompt: &str) -> (String, usize) {
    let engine = Engine::start();
    let params = LoadParams {
        context_length: Some(2048),
        threads: Some(2),
        flash_attention: FlashAttention::On,
        ..LoadParams::default()
    };
    engine.load(model, params, |_| {}, Arc::new(AtomicBool::new(false))).await.unwrap();
    let sampling = SamplingParams {
        temperature: 0.0,
        repeat_penalty: 1.0,
        max_tokens: TOKENS,
        ignore_eos: true,
        ..SamplingParams::default()
    };
    let mut generation = engine.generate(GenerateRequest::completion(prompt, sampling)).unwrap();
    let mut text = String::new();
    loop {
        match generation.events.recv().await.unwrap() {
            GenerationEvent::Text { text: t, .. } => text.push_str(&t),
            GenerationEvent::Done { stats } => return (text, stats.generated_tokens),
            GenerationEvent::ToolCalls { calls } => panic!("unexpected tool calls: {calls:?}"),
            GenerationEvent::Reasoning { text } => panic!("unexpected reasoning: {text:?}"),
            GenerationEvent::Error { message, .. } => panic!("{message}"),
        }
    }
}

async fn check(model: &str, prompt: &str) {
    let model = common::fixture(model);
    let theirs = llama_completion(&model, prompt);
    let (ours, generated) = sirocco(&model, prompt).await;
    assert_eq!(generated, TOKENS as usize);
    assert!(ours.chars().count() >= 20, "too little text to compare: {ours:?}");
    // llama-completion may end its output with a newline of its own.
    let rest = theirs.strip_prefix(&ours).unwrap_or_else(|| {
        panic!("greedy output differs from llama.cpp's\n sirocco: {ours:?}\n llama.cpp: {theirs:?}")
    });
    assert!(rest.trim().is_empty(), "llama.cpp generated more: {rest:?}");
}

#[tokio::test]
async fn greedy_smollm2_matches_llama_completion() {
    check(common::SMOLLM2, "The three primary colours are").await;
}

#[tokio::test]
async fn greedy_mixtral_shaped_moe_matches_llama_completion() {
    check(common::TINY_MIXTRAL, "Once upon a time").await;
}
