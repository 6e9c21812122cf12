//! Continuous batching on a real model: concurrent requests decode together, each in its own
//! sequence slot; more wait in a queue; a cancelled or abandoned request frees its slot; the
//! slots share the context's cells.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::{fixture, SMOLLM2};
use sirocco_engine::FinishReason;
use sirocco_engine::{
    ChatMessage, Engine, GenerateRequest, GenerationEvent, GenerationStats, LoadParams, Role, SamplingParams,
};
use tokio::sync::mpsc;

fn greedy(max_tokens: u32) -> SamplingParams {
    SamplingParams { temperature: 0.0, max_tokens, ..SamplingParams::default() }
}

fn ask(text: &str, sampling: SamplingParams) -> GenerateRequest {
    GenerateRequest::new(vec![ChatMessage::new(Role::User, text)], sampling)
}

async fn engine_with(parallel: u32, context: u32) -> Engine {
    let engine = Engine::start();
    let loaded = engine
        .load(
            &fixture(SMOLLM2),
            LoadParams { context_length: Some(context), parallel, ..LoadParams::default() },
            |_| {},
            Arc::new(AtomicBool::new(false)),
        )
        .await
        .expect("model loads");
    assert_eq!(loaded.parallel, parallel);
    engine
}

#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Text(usize),
    Done(usize, FinishReason),
}

/// Starts every request at once; returns each one's text and stats, and the order in which
/// events of all of them arrived.
async fn run_all(engine: &Engine, requests: Vec<GenerateRequest>) -> (Vec<(String, GenerationStats)>, Vec<Seen>) {
    let (log, mut seen) = mpsc::unbounded_channel();
    let mut tasks = Vec::new();
    for (i, request) in requests.into_iter().enumerate() {
        let mut generation = engine.generate(request).unwrap();
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let mut text = String::new();
            while let Some(event) = generation.events.recv().await {
                match event {
                    GenerationEvent::Text { text: t, .. } => {
                        text.push_str(&t);
                        let _ = log.send(Seen::Text(i));
                    }
                    GenerationEvent::Done { stats } => {
                        let _ = log.send(Seen::Done(i, stats.finish_reason.clone()));
                        return (text, stats);
                    }
                    GenerationEvent::ToolCalls { calls } => panic!("unexpected tool calls: {calls:?}"),
                    GenerationEvent::Reasoning { text } => panic!("unexpected reasoning: {text:?}"),
                    GenerationEvent::Error { message, .. } => panic!("request {i} failed: {message}"),
                }
            }
            panic!("request {i} ended without Done");
        }));
    }
    drop(log);
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let mut order = Vec::new();
    while let Some(s) = seen.recv().await {
        order.push(s);
    }
    (results, order)
}

#[tokio::test]
async fn concurrent_requests_decode_together() {
    let engine = engine_with(4, 2048).await;
    let questions = [
        "What is the capital of France? Answer in one sentence.",
        "What is the capital of Italy? Answer in one sentence.",
        "What is the capital of France? Answer in one sentence.",
        "What is the capital of France? Answer in one sentence.",
    ];
    let (together, order) = run_all(&engine, questions.iter().map(|q| ask(q, greedy(24))).collect()).await;

    // The streams interleave: the others answer before the first is done.
    let first_done = order.iter().position(|s| matches!(s, Seen::Done(..))).unwrap();
    let answering: std::collections::BTreeSet<usize> =
        order[..first_done].iter().filter_map(|s| if let Seen::Text(i) = s { Some(*i) } else { None }).collect();
    assert_eq!(answering.len(), 4, "only {answering:?} streamed before the first finished: {order:?}");
    // Each sequence sees only its own prompt.
    assert!(together[0].0.contains("Paris"), "{}", together[0].0);
    assert!(together[1].0.contains("Rome"), "{}", together[1].0);
    // The same prompt in the same batch decodes the same way. (A batch of one may differ in
    // the last bits: llama.cpp's kernels for one row and for several are not the same code.)
    assert_eq!(together[0].0, together[2].0);
    assert_eq!(together[0].0, together[3].0);
    for (text, stats) in &together {
        assert!(stats.generated_tokens > 0 && !text.is_empty());
        assert_eq!(stats.cached_tokens, 0, "four fresh slots");
    }
}

#[tokio::test]
async fn beyond_the_slots_requests_wait_in_the_queue() {
    let engine = engine_with(2, 1024).await;
    let fixed = SamplingParams { ignore_eos: true, ..greedy(12) };
    let requests = (0..4).map(|i| ask(&format!("Count to {}.", i + 3), fixed.clone())).collect();
    let (results, order) = run_all(&engine, requests).await;
    for (text, stats) in &results {
        assert_eq!(stats.finish_reason, FinishReason::Length);
        assert_eq!(stats.generated_tokens, 12);
        assert!(!text.is_empty());
    }
    // Two slots: the third and fourth requests start only once one of the first two is done.
    let first_done = order.iter().position(|s| matches!(s, Seen::Done(..))).unwrap();
    assert!(
        !order[..first_done].iter().any(|s| matches!(s, Seen::Text(2) | Seen::Text(3))),
        "a queued request streamed while both slots were busy: {order:?}"
    );
    let started_late = order.iter().position(|s| matches!(s, Seen::Text(2) | Seen::Text(3))).unwrap();
    assert!(started_late > first_done);
}

#[tokio::test]
async fn a_cancelled_or_abandoned_request_frees_its_slot() {
    let engine = engine_with(1, 1024).await;
    let endless = SamplingParams { ignore_eos: true, ..greedy(100_000) };

    // Cancelled while decoding: the queued request behind it gets the slot.
    let mut first = engine.generate(ask("Tell me a long story.", endless.clone())).unwrap();
    let mut second =
        engine.generate(ask("What is the capital of France? Answer in one sentence.", greedy(16))).unwrap();
    assert!(matches!(first.events.recv().await, Some(GenerationEvent::Text { .. })));
    first.cancel_handle().store(true, Ordering::Relaxed);
    let stats = loop {
        match first.events.recv().await.expect("Done follows a cancel") {
            GenerationEvent::Done { stats } => break stats,
            GenerationEvent::Text { .. } => {}
            GenerationEvent::ToolCalls { calls } => panic!("unexpected tool calls: {calls:?}"),
            GenerationEvent::Reasoning { text } => panic!("unexpected reasoning: {text:?}"),
            GenerationEvent::Error { message, .. } => panic!("{message}"),
        }
    };
    assert_eq!(stats.finish_reason, FinishReason::Cancelled);
    let mut answered = String::new();
    loop {
        match second.events.recv().await.expect("the queued request runs") {
            GenerationEvent::Text { text, .. } => answered.push_str(&text),
            GenerationEvent::Done { .. } => break,
            GenerationEvent::ToolCalls { calls } => panic!("unexpected tool calls: {calls:?}"),
            GenerationEvent::Reasoning { text } => panic!("unexpected reasoning: {text:?}"),
            GenerationEvent::Error { message, .. } => panic!("{message}"),
        }
    }
    assert!(answered.contains("Paris"), "{answered}");

    // Abandoned (the client went away, its receiver dropped): the slot frees as well.
    let abandoned = engine.generate(ask("Tell me another long story.", endless)).unwrap();
    let mut events = abandoned.events;
    assert!(matches!(events.recv().await, Some(GenerationEvent::Text { .. })));
    drop(events);
    let (results, _) = run_all(&engine, vec![ask("What is 2 + 2? Answer in one sentence.", greedy(16))]).await;
    assert!(results[0].1.generated_tokens > 0);
}

#[tokio::test]
async fn slots_share_the_context_so_one_conversation_can_use_all_of_it() {
    // Four slots over 512 cells: a 400-token prompt still fits, and each follow-up reuses its
    // own slot's cache.
    let engine = engine_with(4, 512).await;
    let long = "The quick brown fox jumps over the lazy dog. ".repeat(36) + "How many foxes are there?";
    let (results, _) = run_all(&engine, vec![ask(&long, greedy(8))]).await;
    let stats = &results[0].1;
    assert!(stats.prompt_tokens > 380 && stats.prompt_tokens < 500, "{}", stats.prompt_tokens);
    assert_eq!(stats.cached_tokens, 0);

    // Another request meanwhile takes another slot; the long one's cache stays where it was.
    let (other, _) = run_all(&engine, vec![ask("Hi!", greedy(4))]).await;
    assert_eq!(other[0].1.cached_tokens, 0, "an empty slot, not the long one's shared system prompt");
    let (again, _) = run_all(&engine, vec![ask(&long, greedy(8))]).await;
    assert_eq!(again[0].1.cached_tokens, stats.prompt_tokens - 1, "the follow-up found its prefix");

    // Two long prompts at once do not both fit: one gets a clear error, nothing aborts, and the
    // engine goes on answering.
    let mut a = engine.generate(ask(&(long.clone() + " Really?"), greedy(8))).unwrap();
    let mut b = engine.generate(ask(&(long.clone() + " Truly?"), greedy(8))).unwrap();
    let mut outcomes = Vec::new();
    for events in [&mut a.events, &mut b.events] {
        loop {
            match events.recv().await.expect("an outcome") {
                GenerationEvent::Text { .. } => {}
                GenerationEvent::Done { stats } => {
                    outcomes.push(Ok(stats.finish_reason));
                    break;
                }
                GenerationEvent::ToolCalls { calls } => panic!("unexpected tool calls: {calls:?}"),
                GenerationEvent::Reasoning { text } => panic!("unexpected reasoning: {text:?}"),
                GenerationEvent::Error { message, .. } => {
                    outcomes.push(Err(message));
                    break;
                }
            }
        }
    }
    assert!(outcomes.iter().any(Result::is_ok), "{outcomes:?}");
    for o in &outcomes {
        if let Err(message) = o {
            assert!(message.contains("tokens are free while other requests run"), "{message}");
        }
    }
    let (after, _) = run_all(&engine, vec![ask("What is 2 + 2? Answer in one sentence.", greedy(8))]).await;
    assert!(after[0].1.generated_tokens > 0);
}
