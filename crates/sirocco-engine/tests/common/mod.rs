#![allow(dead_code)]

use std::path::PathBuf;

/// The folder `tests/fixtures/fetch.sh` fills.
pub fn fixture(name: &str) -> PathBuf {
    let dir = std::env::var_os("SIROCCO_FIXTURES").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/sirocco/fixtures")
    });
    let path = dir.join(name);
    assert!(path.is_file(), "missing fixture {} — run tests/fixtures/fetch.sh", path.display());
    path
}

pub const SMOLLM2: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
pub const TINY_MISTRAL: &str = "tiny-mistral-7b-shape.gguf";
pub const TINY_MIXTRAL: &str = "tiny-mixtral-8x7b-shape.gguf";

/// Runs `request` to the end: its whole text and final stats (a failure panics).
#[allow(dead_code)]
pub async fn answer(
    engine: &sirocco_engine::Engine,
    request: sirocco_engine::GenerateRequest,
) -> (String, sirocco_engine::GenerationStats) {
    use sirocco_engine::GenerationEvent;
    let mut g = engine.generate(request).unwrap();
    let mut text = String::new();
    loop {
        match g.events.recv().await.expect("the stream ends with Done or Error") {
            GenerationEvent::Text { text: t, .. } => text.push_str(&t),
            GenerationEvent::Done { stats } => return (text, stats),
            GenerationEvent::ToolCalls { calls } => panic!("unexpected tool calls: {calls:?}"),
            GenerationEvent::Reasoning { text } => panic!("unexpected reasoning: {text:?}"),
            GenerationEvent::Error { message, .. } => panic!("generation failed: {message}"),
        }
    }
}

/// Reads a started generation to the end: its whole text and final stats (a failure panics).
#[allow(dead_code)]
pub async fn collect(mut g: sirocco_engine::Generation) -> (String, sirocco_engine::GenerationStats) {
    use sirocco_engine::GenerationEvent;
    let mut text = String::new();
    loop {
        match g.events.recv().await.expect("the stream ends with Done or Error") {
            GenerationEvent::Text { text: t, .. } => text.push_str(&t),
            GenerationEvent::Done { stats } => return (text, stats),
            GenerationEvent::Error { message, .. } => panic!("generation failed: {message}"),
            other => panic!("unexpected event: {other:?}"),
        }
    }
}
