//! Stop strings, constrained output and load parameters on a real model.

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use common::{fixture, SMOLLM2};
use sirocco_engine::{
    ChatMessage, Engine, EngineError, GenerateRequest, GenerationEvent, GenerationStats, LoadParams, Role,
    SamplingParams,
};
use sirocco_engine::{FinishReason, FlashAttention, KvCacheType};

async fn engine_with(params: LoadParams) -> Result<Engine, EngineError> {
    let engine = Engine::start();
    engine.load(&fixture(SMOLLM2), params, |_| {}, Arc::new(AtomicBool::new(false))).await?;
    Ok(engine)
}

async fn ask(engine: &Engine, q: &str, sampling: SamplingParams) -> Result<(String, GenerationStats), String> {
    let request = GenerateRequest::new(vec![ChatMessage::new(Role::User, q)], sampling);
    let mut g = engine.generate(request).unwrap();
    let mut text = String::new();
    loop {
        match g.events.recv().await.unwrap() {
            GenerationEvent::Text { text: t, .. } => text.push_str(&t),
            GenerationEvent::Done { stats } => return Ok((text, stats)),
            GenerationEvent::ToolCalls { calls } => panic!("unexpected tool calls: {calls:?}"),
            GenerationEvent::Reasoning { text } => panic!("unexpected reasoning: {text:?}"),
            GenerationEvent::Error { message, .. } => return Err(message),
        }
    }
}

fn greedy(max_tokens: u32) -> SamplingParams {
    SamplingParams { temperature: 0.0, max_tokens, ..SamplingParams::default() }
}

/// Without a seed every answer is drawn afresh (regenerate gives another answer); with one, the
/// same answer comes back.
#[tokio::test]
async fn answers_vary_unless_a_seed_is_set() {
    let engine = engine_with(LoadParams { context_length: Some(512), ..LoadParams::default() }).await.unwrap();
    let q = "Write a short poem about the sea.";
    let free = SamplingParams { temperature: 1.0, max_tokens: 32, ..SamplingParams::default() };
    assert_eq!(free.seed, sirocco_engine::RANDOM_SEED);
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(ask(&engine, q, free.clone()).await.unwrap().0);
    }
    assert!(answers.iter().any(|a| a != &answers[0]), "three unseeded answers were identical: {answers:?}");
    let seeded = SamplingParams { seed: 1234, ..free };
    let a = ask(&engine, q, seeded.clone()).await.unwrap().0;
    let b = ask(&engine, q, seeded).await.unwrap().0;
    assert_eq!(a, b, "a fixed seed repeats the answer");
}

#[tokio::test]
async fn stop_strings_end_the_reply_before_the_stop() {
    let engine = engine_with(LoadParams::default()).await.unwrap();
    let q = "What is the capital of France?";
    let (full, _) = ask(&engine, q, greedy(40)).await.unwrap();
    let at = full.find("Paris").expect("the greedy answer mentions Paris");

    let sampling = SamplingParams { stop: vec!["Paris".into()], ..greedy(40) };
    let (cut, stats) = ask(&engine, q, sampling).await.unwrap();
    assert_eq!(cut, full[..at]);
    assert_eq!(stats.finish_reason, FinishReason::Stop);
}

#[tokio::test]
async fn json_schema_constrains_the_output() {
    let engine = engine_with(LoadParams::default()).await.unwrap();
    let schema = serde_json::json!({
        "type": "object",
        "properties": {
            "capital": { "type": "string", "enum": ["Paris", "London", "Rome"] },
            "population_millions": { "type": "integer" }
        },
        "required": ["capital", "population_millions"]
    });
    let sampling = SamplingParams { json_schema: Some(schema), ..greedy(60) };
    let (text, stats) = ask(&engine, "Answer in JSON: what is the capital of France?", sampling).await.unwrap();
    assert_eq!(stats.finish_reason, FinishReason::Stop, "{text}");
    let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert!(["Paris", "London", "Rome"].contains(&value["capital"].as_str().unwrap()));
    assert!(value["population_millions"].is_i64());
}

#[tokio::test]
async fn bad_grammar_and_absurd_values_are_clear_errors() {
    let engine = engine_with(LoadParams::default()).await.unwrap();
    let broken = SamplingParams { grammar: Some("root ::= (".into()), ..greedy(4) };
    let err = ask(&engine, "hi", broken).await.unwrap_err();
    assert!(err.contains("grammar"), "{err}");
    let absurd = SamplingParams { top_p: 7.0, ..greedy(4) };
    let err = ask(&engine, "hi", absurd).await.unwrap_err();
    assert!(err.contains("top_p"), "{err}");
    // The engine is still fine afterwards.
    assert!(ask(&engine, "hi", greedy(4)).await.is_ok());
}

#[tokio::test]
async fn quantized_kv_cache_and_no_mmap_load_and_generate() {
    for kv in [KvCacheType::Q8_0, KvCacheType::Q4_0] {
        let params = LoadParams {
            kv_cache_type: kv,
            flash_attention: FlashAttention::On,
            use_mmap: false,
            ..LoadParams::default()
        };
        let engine = engine_with(params).await.unwrap();
        let (text, _) = ask(&engine, "What is the capital of France?", greedy(16)).await.unwrap();
        assert!(!text.is_empty(), "{kv:?}");
    }
}

#[tokio::test]
async fn quantized_kv_without_flash_attention_is_refused() {
    let params =
        LoadParams { kv_cache_type: KvCacheType::Q8_0, flash_attention: FlashAttention::Off, ..LoadParams::default() };
    let err = engine_with(params).await.err().expect("refused");
    assert!(err.to_string().contains("needs flash attention"), "{err}");
}
