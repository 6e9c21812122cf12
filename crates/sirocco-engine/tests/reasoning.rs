//! A reasoning model's thought kept apart from its answer while it streams, on a real model
//! (SmolLM2) whose template writes `<think>` tags (as Qwen 3's and SmolLM3's do), made to think
//! by a grammar: the thought arrives as reasoning, in order before the answer, never in the text.

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use sirocco_engine::{ChatMessage, Engine, GenerateRequest, GenerationEvent, LoadParams, Role, SamplingParams};

/// ChatML that writes `<think>` (an empty thought when thinking is off, as Qwen 3's does): a
/// thinking model whose earlier answers lose their thought (it writes each message's content
/// only; the thought arrives apart, as `reasoning_content`).
const THINKING_TEMPLATE: &str = "{% for message in messages %}<|im_start|>{{ message['role'] }}\n\
{{ message['content'] }}<|im_end|>\n{% endfor %}\
{% if add_generation_prompt %}<|im_start|>assistant\n\
{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}{% endif %}";

async fn thinking_smollm2() -> Engine {
    let engine = Engine::start();
    let params = LoadParams {
        context_length: Some(1024),
        chat_template_override: Some(THINKING_TEMPLATE.into()),
        ..LoadParams::default()
    };
    let loaded = engine
        .load(&common::fixture(common::SMOLLM2), params.clone(), |_| {}, Arc::new(AtomicBool::new(false)))
        .await
        .unwrap();
    assert!(loaded.thinks, "a template that writes <think> marks a thinking model");
    // Its own template has no thought: not a thinking model.
    let plain = LoadParams { chat_template_override: None, ..params };
    let other = Engine::start();
    let loaded =
        other.load(&common::fixture(common::SMOLLM2), plain, |_| {}, Arc::new(AtomicBool::new(false))).await.unwrap();
    assert!(!loaded.thinks);
    engine
}

/// The model thinks first, then answers: held to that shape by a grammar.
fn request(separate: bool) -> GenerateRequest {
    let sampling = SamplingParams {
        temperature: 0.0,
        max_tokens: 120,
        grammar: Some(r#"root ::= "<think>" [a-z ,]{12,60} "</think>" [A-Za-z ,.]{6,40}"#.into()),
        ..SamplingParams::default()
    };
    GenerateRequest {
        separate_reasoning: separate,
        ..GenerateRequest::new(vec![ChatMessage::new(Role::User, "Is the sea blue? Think first.")], sampling)
    }
}

/// (reasoning, answer, the order the kinds came in: 'r' and 't' per event)
async fn run(engine: &Engine, request: GenerateRequest) -> (String, String, String) {
    let mut g = engine.generate(request).unwrap();
    let (mut reasoning, mut text, mut order) = (String::new(), String::new(), String::new());
    loop {
        match g.events.recv().await.expect("the stream ends with Done") {
            GenerationEvent::Reasoning { text: t } => {
                reasoning.push_str(&t);
                order.push('r');
            }
            GenerationEvent::Text { text: t, .. } => {
                text.push_str(&t);
                order.push('t');
            }
            GenerationEvent::Done { .. } => return (reasoning, text, order),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn a_thought_streams_apart_from_the_answer_and_before_it() {
    let engine = thinking_smollm2().await;
    let (reasoning, text, order) = run(&engine, request(true)).await;
    assert!(reasoning.trim().len() >= 12, "the thought arrived as reasoning: {reasoning:?} / {text:?}");
    assert!(!reasoning.contains("think>") && !text.contains("think>"), "no tags shown: {reasoning:?} / {text:?}");
    assert!(text.trim().len() >= 6, "the answer arrived as text: {text:?}");
    assert!(
        order.starts_with('r') && !order.trim_start_matches('r').contains('r'),
        "thought first, then answer: {order}"
    );

    // Asked for as written (the app today, llama.cpp's reasoning_format none): the same reply,
    // tags and all, in the text.
    let (none, inline, _) = run(&engine, request(false)).await;
    assert_eq!(none, "");
    assert_eq!(as_written(inline.strip_prefix("<think>").expect("the tag is in the text")), (reasoning, text));
}

/// Stats and text of a reply that starts inside a thought ("start reply with" `<think>`, as a
/// template that opens the thought does) and is free to think for as long as it likes.
async fn open_thought(
    engine: &Engine,
    budget: Option<u32>,
    separate: bool,
) -> (String, String, sirocco_engine::GenerationStats) {
    let sampling = SamplingParams { temperature: 0.0, max_tokens: 48, ..SamplingParams::default() };
    let request = GenerateRequest {
        separate_reasoning: separate,
        thinking_budget: budget,
        reply_prefix: Some("<think>".into()),
        ..GenerateRequest::new(vec![ChatMessage::new(Role::User, "Write a long story about the sea.")], sampling)
    };
    let mut g = engine.generate(request).unwrap();
    let (mut reasoning, mut text) = (String::new(), String::new());
    loop {
        match g.events.recv().await.expect("the stream ends with Done") {
            GenerationEvent::Reasoning { text: t } => reasoning.push_str(&t),
            GenerationEvent::Text { text: t, .. } => text.push_str(&t),
            GenerationEvent::Done { stats } => return (reasoning, text, stats),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn a_thinking_budget_closes_the_thought_with_the_models_own_tag() {
    let engine = thinking_smollm2().await;
    // Unbounded, this model never closes its thought within the reply: all of it is thought.
    let (reasoning, text, stats) = open_thought(&engine, None, true).await;
    assert_eq!((text.as_str(), stats.reasoning_tokens), ("", stats.generated_tokens), "{reasoning:?}");

    // With a budget the engine writes `</think>` after 10 tokens of thought and the answer follows.
    let (reasoning, text, stats) = open_thought(&engine, Some(10), true).await;
    assert!(!reasoning.is_empty() && !reasoning.contains("</"), "{reasoning:?}");
    assert!(!text.trim().is_empty() && !text.contains("think>"), "an answer after the thought: {text:?}");
    // 10 tokens of thought, then the closing tag's tokens (counted as thought).
    assert!((11..=16).contains(&stats.reasoning_tokens), "{stats:?}");
    assert!(stats.generated_tokens > stats.reasoning_tokens, "{stats:?}");

    // Shown inline, the thought keeps its tags: the closing tag the engine wrote (and the blank
    // line after it, as thinking templates write it) is in the text.
    let (none, inline, _) = open_thought(&engine, Some(10), false).await;
    assert_eq!(none, "");
    assert!(inline.contains("</think>\n\n"), "{inline:?}");
    assert_eq!(as_written(&inline), (reasoning, text));
}

/// A reply shown as the model wrote it, read apart: the thought before `</think>` and the answer
/// after it, without the blank lines that surround them (which belong to neither).
fn as_written(inline: &str) -> (String, String) {
    let (thought, answer) = inline.split_once("</think>").expect("the closing tag is in the text");
    (thought.trim_start().to_string(), answer.trim_start().to_string())
}

/// A template that keeps an earlier answer's thought (as Qwen 3's does for the turn in progress)
/// is given it: the prompt holds the thought the app stored apart from the answer.
#[tokio::test]
async fn a_template_that_keeps_earlier_thoughts_is_given_them() {
    const KEEPING: &str = "{% for m in messages %}<|im_start|>{{ m.role }}\n\
{% if m.reasoning_content is defined %}<think>\n{{ m.reasoning_content }}\n</think>\n\n{% endif %}\
{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
    let engine = Engine::start();
    let params = LoadParams {
        context_length: Some(1024),
        chat_template_override: Some(KEEPING.into()),
        ..LoadParams::default()
    };
    engine.load(&common::fixture(common::SMOLLM2), params, |_| {}, Arc::new(AtomicBool::new(false))).await.unwrap();
    let mut answer = ChatMessage::new(Role::Assistant, "Yes, mostly.");
    answer.reasoning_content = Some("the sky reflects on the water".into());
    let messages = vec![ChatMessage::new(Role::User, "Is the sea blue?"), answer, ChatMessage::new(Role::User, "Why?")];
    let tokens = engine.prompt_tokens(messages, None, None).await.unwrap();
    let prompt = engine.detokenize(tokens, true).await.unwrap();
    assert!(
        prompt.contains(
            "<|im_start|>assistant\n<think>\nthe sky reflects on the water\n</think>\n\nYes, mostly.<|im_end|>"
        ),
        "{prompt:?}"
    );
}
