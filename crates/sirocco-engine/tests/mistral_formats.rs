//! Mistral's prompt formats, token for token against Mistral's reference library.
//!
//! `tests/fixtures/make_mistral_formats.py` writes a tiny model per format with Mistral's real
//! tokenizer inside, and the token ids `mistral-common` produces for a set of conversations
//! (multi-turn, system prompts, same-role neighbours, hostile text, "start reply with").
//! The engine must produce exactly those ids through its real prompt path.

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde::Deserialize;
use sirocco_engine::{
    ChatMessage, Engine, GenerateRequest, GenerationEvent, LoadParams, PromptFormatKind, SamplingParams,
};

#[derive(Deserialize)]
struct Case {
    name: String,
    messages: Vec<ChatMessage>,
    reply_prefix: Option<String>,
    tokens: Vec<i32>,
}

fn reference(format: &str) -> Vec<Case> {
    let text = std::fs::read_to_string(common::fixture("mistral-formats.json")).unwrap();
    let mut all: serde_json::Value = serde_json::from_str(&text).unwrap();
    serde_json::from_value(all["formats"][format].take()).unwrap()
}

async fn load(format: &str) -> (Engine, PromptFormatKind) {
    let engine = Engine::start();
    let params = LoadParams { context_length: Some(1024), ..LoadParams::default() };
    let model = common::fixture(&format!("mistral-{format}.gguf"));
    let loaded = engine.load(&model, params, |_| {}, Arc::new(AtomicBool::new(false))).await.unwrap();
    (engine, loaded.prompt_format)
}

async fn check(format: &str, label: &str) {
    let (engine, kind) = load(format).await;
    match &kind {
        PromptFormatKind::Mistral { label: l, .. } => assert_eq!(l, label),
        other => panic!("{format}: not recognised as a Mistral format: {other:?}"),
    }
    let cases = reference(format);
    assert!(cases.len() >= 8, "{format}: the reference has {} cases", cases.len());
    for case in cases {
        let got = engine.prompt_tokens(case.messages.clone(), case.reply_prefix.clone()).await.unwrap();
        assert_eq!(got, case.tokens, "{format}, \"{}\": tokens differ from mistral-common", case.name);
    }
}

#[tokio::test]
async fn v1_matches_the_reference() {
    check("v1", "Mistral v1").await;
}

#[tokio::test]
async fn v3_matches_the_reference() {
    check("v3", "Mistral v3").await;
}

#[tokio::test]
async fn v3_tekken_matches_the_reference() {
    check("v3-tekken", "Mistral v3-tekken").await;
}

#[tokio::test]
async fn v7_matches_the_reference() {
    check("v7", "Mistral v7").await;
}

#[tokio::test]
async fn v7_tekken_matches_the_reference() {
    check("v7-tekken", "Mistral v7-tekken").await;
}

/// "Start reply with": the prompt ends inside the assistant turn and generation goes on from
/// there; the prefix is not streamed back.
#[tokio::test]
async fn a_reply_can_be_started_for_the_model() {
    let (engine, _) = load("v3").await;
    let messages = vec![ChatMessage::new(sirocco_engine::Role::User, "Name a colour.")];
    let plain = engine.prompt_tokens(messages.clone(), None).await.unwrap();
    let prefixed = engine.prompt_tokens(messages.clone(), Some("The colour is".into())).await.unwrap();
    assert!(prefixed.len() > plain.len() && prefixed.starts_with(&plain), "{plain:?} / {prefixed:?}");

    let sampling = SamplingParams { temperature: 0.0, max_tokens: 4, ignore_eos: true, ..SamplingParams::default() };
    let request = GenerateRequest { reply_prefix: Some("The colour is".into()), ..GenerateRequest::new(messages, sampling) };
    let mut generation = engine.generate(request).unwrap();
    let mut text = String::new();
    loop {
        match generation.events.recv().await.unwrap() {
            GenerationEvent::Text { text: t } => text.push_str(&t),
            GenerationEvent::Done { stats } => {
                assert_eq!(stats.prompt_tokens, prefixed.len());
                assert_eq!(stats.generated_tokens, 4);
                break;
            }
            GenerationEvent::Error { message, .. } => panic!("{message}"),
        }
    }
    assert!(!text.starts_with("The colour is"), "the prefix was streamed back: {text:?}");
}
