//! A reasoning model's thought kept apart from its answer while it streams, on a real model
//! (SmolLM2) whose template writes `<think>` tags (as Qwen 3's and SmolLM3's do), made to think
//! by a grammar: the thought arrives as reasoning, in order before the answer, never in the text.

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use sirocco_engine::{ChatMessage, Engine, GenerateRequest, GenerationEvent, LoadParams, Role, SamplingParams};

/// ChatML whose earlier answers lose their thought, as thinking models' templates do.
const THINKING_TEMPLATE: &str = "{% for message in messages %}<|im_start|>{{ message['role'] }}\n\
{% if message['role'] == 'assistant' and '</think>' in message['content'] %}{{ message['content'].split('</think>')[-1] | trim }}\
{% else %}{{ message['content'] }}{% endif %}<|im_end|>\n{% endfor %}\
{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

async fn thinking_smollm2() -> Engine {
    let engine = Engine::start();
    let params = LoadParams {
        context_length: Some(1024),
        chat_template_override: Some(THINKING_TEMPLATE.into()),
        ..LoadParams::default()
    };
    engine.load(&common::fixture(common::SMOLLM2), params, |_| {}, Arc::new(AtomicBool::new(false))).await.unwrap();
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
    assert_eq!(inline, format!("<think>{reasoning}</think>{text}"));
}
