//! Prefix reuse: a follow-up turn computes only what is new since the last turn.

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use common::{fixture, SMOLLM2};
use sirocco_engine::{
    ChatMessage, Engine, GenerateRequest, GenerationEvent, GenerationStats, LoadParams, Role, SamplingParams,
};

async fn loaded() -> Engine {
    let engine = Engine::start();
    let params = LoadParams { context_length: Some(2048), ..LoadParams::default() };
    engine.load(&fixture(SMOLLM2), params, |_| {}, Arc::new(AtomicBool::new(false))).await.unwrap();
    engine
}

async fn reply(engine: &Engine, messages: &[ChatMessage]) -> (String, GenerationStats) {
    let sampling = SamplingParams { temperature: 0.0, max_tokens: 24, ..SamplingParams::default() };
    common::answer(engine, GenerateRequest::new(messages.to_vec(), sampling)).await
}

fn user(text: &str) -> ChatMessage {
    ChatMessage::new(Role::User, text)
}

#[tokio::test]
async fn follow_up_turns_reuse_the_cached_prefix() {
    let engine = loaded().await;
    let mut messages = vec![user("Name three colours of the rainbow.")];
    let (first, turn1) = reply(&engine, &messages).await;
    assert_eq!(turn1.cached_tokens, 0, "nothing is cached before the first turn");

    messages.push(ChatMessage::new(Role::Assistant, first));
    messages.push(user("And three animals?"));
    let (second, turn2) = reply(&engine, &messages).await;
    assert!(!second.is_empty());
    // The whole first prompt (and the start of the reply) came from the cache.
    assert!(turn2.cached_tokens >= turn1.prompt_tokens, "{turn2:?} after {turn1:?}");
    assert!(turn2.cached_tokens < turn2.prompt_tokens);

    // Editing the last user message keeps everything before it.
    let last = messages.len() - 1;
    messages[last] = user("And three fruits?");
    let (_, edited) = reply(&engine, &messages).await;
    assert!(edited.cached_tokens >= turn1.prompt_tokens, "{edited:?}");
    assert!(edited.cached_tokens < turn2.prompt_tokens, "the edit point is not reused");

    // A different conversation shares only the template's opening tokens.
    let (_, other) = reply(&engine, &[user("Completely different question?")]).await;
    assert!(other.cached_tokens < turn1.prompt_tokens, "{other:?}");
}

#[tokio::test]
async fn reused_prefix_gives_the_same_answer_as_a_fresh_context() {
    let conversation = [
        user("What is the capital of France?"),
        ChatMessage::new(Role::Assistant, "The capital of France is Paris."),
        user("What is the capital of Italy?"),
    ];
    let warm = loaded().await;
    reply(&warm, &conversation[..1]).await;
    let (warm_answer, warm_stats) = reply(&warm, &conversation).await;
    assert!(warm_stats.cached_tokens > 0);

    let cold = loaded().await;
    let (cold_answer, cold_stats) = reply(&cold, &conversation).await;
    assert_eq!(cold_stats.cached_tokens, 0);
    assert_eq!(warm_answer, cold_answer);
}

/// A conversation longer than the context: refused with the numbers, or trimmed by whole
/// messages by the chosen overflow policy — never silently cut.
#[tokio::test]
async fn overflow_policies_refuse_or_drop_whole_messages() {
    use sirocco_engine::OverflowPolicy;
    let engine = Engine::start();
    let params = LoadParams { context_length: Some(256), ..LoadParams::default() };
    engine.load(&fixture(SMOLLM2), params, |_| {}, Arc::new(AtomicBool::new(false))).await.unwrap();
    let mut messages = vec![ChatMessage::new(Role::System, "You are brief.")];
    for i in 0..8 {
        messages.push(user(&format!("Question {i}: tell me about the river, the stone and the lantern.")));
        messages.push(ChatMessage::new(
            Role::Assistant,
            format!("Answer {i}: the river runs past the stone by the lantern."),
        ));
    }
    messages.push(user("Which colour is the sky?"));
    let sampling = SamplingParams { temperature: 0.0, max_tokens: 4, ..SamplingParams::default() };
    let run = |overflow: OverflowPolicy| {
        let request = GenerateRequest { overflow, ..GenerateRequest::new(messages.clone(), sampling.clone()) };
        let mut g = engine.generate(request).unwrap();
        async move {
            loop {
                match g.events.recv().await.unwrap() {
                    GenerationEvent::Text { .. } => {}
                    GenerationEvent::Done { stats } => return Ok(stats),
                    GenerationEvent::ToolCalls { calls } => panic!("unexpected tool calls: {calls:?}"),
                    GenerationEvent::Reasoning { text } => panic!("unexpected reasoning: {text:?}"),
                    GenerationEvent::Error { message, .. } => return Err(message),
                }
            }
        }
    };
    let refused = run(OverflowPolicy::Stop).await.unwrap_err();
    assert!(refused.contains("256") && refused.contains("tokens"), "{refused}");

    let full = engine.prompt_tokens(messages.clone(), None, None).await.unwrap().len();
    for policy in [OverflowPolicy::DropMiddle, OverflowPolicy::RollingWindow] {
        let stats = run(policy).await.unwrap();
        assert!(stats.dropped_messages >= 2 && stats.dropped_messages % 2 == 0, "{policy:?}: {stats:?}");
        assert!(stats.prompt_tokens < 256 && stats.prompt_tokens < full, "{policy:?}: {stats:?}");
        assert_eq!(stats.generated_tokens, 4);
    }
}
