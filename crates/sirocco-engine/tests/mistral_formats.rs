//! Mistral's prompt formats, token for token against Mistral's reference library.
//!
//! `tests/fixtures/make_mistral_formats.py` writes a tiny model per format with Mistral's real
//! tokenizer inside, and the token ids `mistral-common` produces for a set of conversations
//! (multi-turn, system prompts, same-role neighbours, hostile text, "start reply with").
//! The engine must produce exactly those ids through its real prompt path, and (tekken
//! vocabularies, where mistral-common writes the prompt as text) show them as the same text.

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde::Deserialize;
use sirocco_engine::{
    ChatMessage, Engine, GenerateRequest, GenerationEvent, LoadParams, PromptFormatKind, ReasoningEffort,
    SamplingParams, Tool, ToolChoice, ToolSpec,
};

#[derive(Deserialize)]
struct Case {
    name: String,
    messages: Vec<ChatMessage>,
    reply_prefix: Option<String>,
    tokens: Vec<i32>,
    text: Option<String>,
}

/// One section (`formats`, `tools`…) of the reference file, for `format`.
fn reference_section<T: serde::de::DeserializeOwned>(section: &str, format: &str) -> T {
    let text = std::fs::read_to_string(common::fixture("mistral-formats.json")).unwrap();
    let mut all: serde_json::Value = serde_json::from_str(&text).unwrap();
    serde_json::from_value(all[section][format].take()).unwrap()
}

fn reference(format: &str) -> Vec<Case> {
    reference_section("formats", format)
}

/// The engine's prompt is the reference's, as ids and (where the reference has it) as text:
/// what `/apply-template` and the prompt inspector show.
async fn same_prompt(engine: &Engine, format: &str, case: &str, got: Vec<i32>, tokens: &[i32], text: Option<&str>) {
    assert_eq!(got, tokens, "{format}, \"{case}\": tokens differ from mistral-common");
    if let Some(text) = text {
        let shown = engine.detokenize(got, true).await.unwrap();
        assert_eq!(shown, text, "{format}, \"{case}\": the prompt's text differs from mistral-common's");
    }
}

/// The references are mistral-common 1.13.1's (the version these formats were checked against).
#[test]
fn the_reference_is_mistral_common_1_13_1() {
    let text = std::fs::read_to_string(common::fixture("mistral-formats.json")).unwrap();
    let all: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(all["mistral_common"], "1.13.1");
    // Every tekken format carries the reference text of its prompts.
    for format in ["v3-tekken", "v7-tekken", "v11", "v13", "v15"] {
        let cases = reference(format);
        assert!(cases.iter().all(|c| c.text.as_deref().is_some_and(|t| t.starts_with("<s>"))), "{format}");
    }
}

async fn load(format: &str) -> (Engine, PromptFormatKind) {
    let engine = Engine::start();
    let params = LoadParams { context_length: Some(1024), ..LoadParams::default() };
    let model = common::fixture(&format!("mistral-{format}.gguf"));
    let loaded = engine.load(&model, params, |_| {}, Arc::new(AtomicBool::new(false))).await.unwrap();
    (engine, loaded.prompt_format)
}

#[derive(Deserialize)]
struct ToolCase {
    name: String,
    tools: Vec<Tool>,
    messages: Vec<ChatMessage>,
    tokens: Vec<i32>,
    text: Option<String>,
}

fn tool_reference(format: &str) -> Vec<ToolCase> {
    reference_section("tools", format)
}

fn offer(tools: Vec<Tool>) -> ToolSpec {
    ToolSpec { tools, choice: ToolChoice::Auto, parallel: true }
}

/// Tools offered, calls made (with clients' `call_…` ids), results as JSON and as text:
/// token for token what mistral-common gives.
async fn check_tools(format: &str) {
    let (engine, _) = load(format).await;
    let cases = tool_reference(format);
    assert!(cases.len() >= 4, "{format}: the reference has {} tool cases", cases.len());
    for case in cases {
        let got = engine.prompt_tokens(case.messages.clone(), None, Some(offer(case.tools))).await.unwrap();
        same_prompt(&engine, format, &case.name, got, &case.tokens, case.text.as_deref()).await;
    }
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
        let got = engine.prompt_tokens(case.messages.clone(), case.reply_prefix.clone(), None).await.unwrap();
        same_prompt(&engine, format, &case.name, got, &case.tokens, case.text.as_deref()).await;
    }
}

#[tokio::test]
async fn v1_matches_the_reference() {
    check("v1", "Mistral v1").await;
}

#[tokio::test]
async fn v3_matches_the_reference() {
    check("v3", "Mistral v3").await;
    check_tools("v3").await;
}

#[tokio::test]
async fn v3_tekken_matches_the_reference() {
    check("v3-tekken", "Mistral v3-tekken").await;
    check_tools("v3-tekken").await;
}

#[tokio::test]
async fn v7_matches_the_reference() {
    check("v7", "Mistral v7").await;
    check_tools("v7").await;
}

#[tokio::test]
async fn v7_tekken_matches_the_reference() {
    check("v7-tekken", "Mistral v7-tekken").await;
    check_tools("v7-tekken").await;
}

#[tokio::test]
async fn v11_matches_the_reference() {
    check("v11", "Mistral v11-tekken").await;
    check_tools("v11").await;
}

#[tokio::test]
async fn v13_matches_the_reference() {
    check("v13", "Mistral v13-tekken").await;
    check_tools("v13").await;
}

#[tokio::test]
async fn v15_matches_the_reference() {
    check("v15", "Mistral v15-tekken").await;
    check_tools("v15").await;
}

/// v13 and later keep an earlier answer's thought: `[THINK]…[/THINK]` before its text.
#[tokio::test]
async fn v13_and_v15_keep_earlier_thoughts_as_the_reference_does() {
    for format in ["v13", "v15"] {
        let (engine, _) = load(format).await;
        let cases: Vec<ToolCase> = reference_section("think", format);
        assert!(cases.len() >= 2, "{format}: {} think cases", cases.len());
        for case in cases {
            let got = engine.prompt_tokens(case.messages.clone(), None, Some(offer(case.tools))).await.unwrap();
            same_prompt(&engine, format, &case.name, got, &case.tokens, case.text.as_deref()).await;
        }
    }
}

#[derive(Deserialize)]
struct EffortCase {
    name: String,
    reasoning_effort: Option<ReasoningEffort>,
    messages: Vec<ChatMessage>,
    tokens: Vec<i32>,
    text: Option<String>,
}

/// v15's model settings: the reasoning effort a request asks for, `none` when it asks none.
#[tokio::test]
async fn v15_writes_the_reasoning_effort_asked_for() {
    let (engine, _) = load("v15").await;
    let cases: Vec<EffortCase> = reference_section("effort", "v15");
    assert!(cases.len() >= 3);
    for case in cases {
        let request = GenerateRequest {
            reasoning_effort: case.reasoning_effort,
            ..GenerateRequest::new(case.messages, SamplingParams::default())
        };
        let got = engine.prompt_tokens_for(request).await.unwrap();
        same_prompt(&engine, "v15", &case.name, got, &case.tokens, case.text.as_deref()).await;
    }
}

/// "Start reply with": the prompt ends inside the assistant turn and generation goes on from
/// there; the prefix is not streamed back.
#[tokio::test]
async fn a_reply_can_be_started_for_the_model() {
    let (engine, _) = load("v3").await;
    let messages = vec![ChatMessage::new(sirocco_engine::Role::User, "Name a colour.")];
    let plain = engine.prompt_tokens(messages.clone(), None, None).await.unwrap();
    let prefixed = engine.prompt_tokens(messages.clone(), Some("The colour is".into()), None).await.unwrap();
    assert!(prefixed.len() > plain.len() && prefixed.starts_with(&plain), "{plain:?} / {prefixed:?}");

    let sampling = SamplingParams { temperature: 0.0, max_tokens: 4, ignore_eos: true, ..SamplingParams::default() };
    let request =
        GenerateRequest { reply_prefix: Some("The colour is".into()), ..GenerateRequest::new(messages, sampling) };
    let mut generation = engine.generate(request).unwrap();
    let mut text = String::new();
    loop {
        match generation.events.recv().await.unwrap() {
            GenerationEvent::Text { text: t, .. } => text.push_str(&t),
            GenerationEvent::Done { stats } => {
                assert_eq!(stats.prompt_tokens, prefixed.len());
                assert_eq!(stats.generated_tokens, 4);
                break;
            }
            GenerationEvent::ToolCalls { calls } => panic!("unexpected tool calls: {calls:?}"),
            GenerationEvent::Reasoning { text } => panic!("unexpected reasoning: {text:?}"),
            GenerationEvent::Error { message, .. } => panic!("{message}"),
        }
    }
    assert!(!text.starts_with("The colour is"), "the prefix was streamed back: {text:?}");
}

#[derive(Deserialize)]
struct FimCase {
    name: String,
    prefix: String,
    suffix: String,
    tokens: Vec<i32>,
}

/// Fill-in-the-middle (Codestral's order: suffix first) against mistral-common, per format.
async fn check_fim(format: &str) {
    let (engine, _) = load(format).await;
    match reference_section::<Option<Vec<FimCase>>>("fim", format) {
        Some(cases) => {
            assert!(cases.len() >= 4);
            for case in cases {
                let got = engine.infill_tokens(case.prefix, case.suffix).await.unwrap();
                assert_eq!(got, case.tokens, "{format}, FIM \"{}\": tokens differ from mistral-common", case.name);
            }
        }
        None => {
            let err = engine.infill_tokens("def f():\n".into(), "\n".into()).await.unwrap_err().to_string();
            assert!(err.contains("not trained for fill-in-the-middle"), "{format}: {err}");
        }
    }
}

#[tokio::test]
async fn fill_in_the_middle_matches_the_reference_in_every_format() {
    for format in ["v1", "v3", "v3-tekken", "v7", "v7-tekken"] {
        check_fim(format).await;
    }
}

/// Other models with FIM tokens (StarCoder's): prefix, suffix, then the middle; a model
/// without them gets a clear error.
#[tokio::test]
async fn fill_in_the_middle_uses_the_models_own_fim_tokens() {
    let engine = Engine::start();
    let params = LoadParams { context_length: Some(1024), ..LoadParams::default() };
    engine
        .load(&common::fixture(common::SMOLLM2), params.clone(), |_| {}, Arc::new(AtomicBool::new(false)))
        .await
        .unwrap();
    let err = engine.infill_tokens("a".into(), "b".into()).await.unwrap_err().to_string();
    assert!(err.contains("not trained for fill-in-the-middle"), "{err}");

    engine
        .load(&common::fixture("tiny-coder-fim.gguf"), params, |_| {}, Arc::new(AtomicBool::new(false)))
        .await
        .unwrap();
    let tokens = engine.infill_tokens("def add(a, b):\n".into(), "\n    return c <fim_middle>".into()).await.unwrap();
    let text = engine.detokenize(tokens.clone(), true).await.unwrap();
    // (This vocabulary's BOS is `<|im_start|>`, and the file asks for it.)
    assert_eq!(text, "<|im_start|><fim_prefix>def add(a, b):\n<fim_suffix>\n    return c <fim_middle><fim_middle>");
    // Typed control-token text stays text: only the last token is the real <fim_middle>.
    let middle = *tokens.last().unwrap();
    assert_eq!(tokens.iter().filter(|&&t| t == middle).count(), 1);

    let (prefix, suffix) = ("def add(a, b):\n    ", "\n\nprint(add(1, 2))\n");
    let sampling = SamplingParams { temperature: 0.0, max_tokens: 8, ignore_eos: true, ..SamplingParams::default() };
    let mut generation = engine.generate(GenerateRequest::infill(prefix, suffix, sampling)).unwrap();
    let mut done = None;
    while let Some(event) = generation.events.recv().await {
        match event {
            GenerationEvent::Done { stats } => done = Some(stats),
            GenerationEvent::ToolCalls { calls } => panic!("unexpected tool calls: {calls:?}"),
            GenerationEvent::Reasoning { text } => panic!("unexpected reasoning: {text:?}"),
            GenerationEvent::Error { message, .. } => panic!("{message}"),
            GenerationEvent::Text { .. } => {}
        }
    }
    let stats = done.expect("the infill finishes");
    assert_eq!(stats.prompt_tokens, engine.infill_tokens(prefix.into(), suffix.into()).await.unwrap().len());
    assert_eq!(stats.generated_tokens, 8);
}
