//! Drafted tokens on a real model (SmolLM2): llama.cpp's drafters propose, the request's own
//! sampler verifies, and the answer is the one plain decoding gives — token for token when
//! greedy, and with a seed, the same sampled answer (one draw per token either way). Each test
//! also checks that drafts were made and kept, so a drafter that silently drafts nothing fails.

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use common::{answer, fixture, SMOLLM2, TINY_MISTRAL};
use sirocco_engine::speculative::{DraftKind, DraftLimits, Drafting};
use sirocco_engine::{ChatMessage, Engine, GenerateRequest, GenerationStats, LoadParams, Role, SamplingParams};

/// A task whose answer repeats much of its prompt: what n-gram drafting is for.
const EDIT: &str = "Rewrite this Python function so that it is named `total_price` instead of `sum_prices`. \
Change nothing else and reply with the code only.\n\n```python\ndef sum_prices(items, tax_rate):\n    \
subtotal = 0\n    for item in items:\n        subtotal += item.price * item.quantity\n    \
tax = subtotal * tax_rate\n    return subtotal + tax\n```";

fn greedy(max_tokens: u32) -> SamplingParams {
    SamplingParams { temperature: 0.0, max_tokens, ..SamplingParams::default() }
}

fn ask(text: &str, sampling: SamplingParams) -> GenerateRequest {
    GenerateRequest::new(vec![ChatMessage::new(Role::User, text)], sampling)
}

async fn load(engine: &Engine, drafting: Drafting) -> sirocco_engine::LoadedModel {
    let params = LoadParams { context_length: Some(2048), drafting, ..LoadParams::default() };
    engine.load(&fixture(SMOLLM2), params, |_| {}, Arc::new(AtomicBool::new(false))).await.expect("model loads")
}

fn ngrams() -> Drafting {
    Drafting { kinds: vec![DraftKind::NgramSimple], ..Drafting::default() }
}

/// SmolLM2 drafting for itself: a real draft model with the same vocabulary, whose drafts the
/// target should keep nearly always.
fn draft_model() -> Drafting {
    Drafting {
        kinds: vec![DraftKind::DraftSimple],
        draft_model: Some(fixture(SMOLLM2)),
        draft_max: Some(6),
        ..Drafting::default()
    }
}

/// Each request answered by a plain load, then by a load drafting with `drafting`.
async fn plain_and_drafted(
    drafting: Drafting,
    requests: &[GenerateRequest],
) -> Vec<((String, GenerationStats), (String, GenerationStats))> {
    let engine = Engine::start();
    let plain = load(&engine, Drafting::default()).await;
    assert_eq!(plain.drafting, None);
    let mut plain_answers = Vec::new();
    for r in requests {
        plain_answers.push(answer(&engine, r.clone()).await);
    }
    let loaded = load(&engine, drafting.clone()).await;
    assert_eq!(loaded.drafting.as_deref(), Some(drafting.names().as_str()));
    let mut out = Vec::new();
    for (r, plain) in requests.iter().zip(plain_answers) {
        out.push((plain, answer(&engine, r.clone()).await));
    }
    out
}

#[tokio::test]
async fn ngram_drafts_give_the_plain_answer_token_for_token() {
    let results = plain_and_drafted(ngrams(), &[ask(EDIT, greedy(96))]).await;
    let ((plain, plain_stats), (drafted, stats)) = &results[0];
    assert_eq!(drafted, plain);
    assert_eq!(stats.generated_tokens, plain_stats.generated_tokens);
    assert_eq!(plain_stats.draft_tokens, 0);
    assert!(stats.draft_tokens > 0, "n-grams of the prompt drafted nothing: {stats:?}");
    assert!(stats.draft_accepted_tokens > 0, "no drafted token was kept: {stats:?}");
    assert!(stats.draft_accepted_tokens <= stats.draft_tokens);
    assert!(stats.draft_off.is_none());
}

#[tokio::test]
async fn a_draft_model_gives_the_plain_answer_greedy_and_sampled() {
    let sampled = SamplingParams { temperature: 0.8, seed: 1234, max_tokens: 48, ..SamplingParams::default() };
    let requests = [ask(EDIT, greedy(64)), ask("Write a short poem about the sea.", sampled)];
    let results = plain_and_drafted(draft_model(), &requests).await;
    for ((plain, plain_stats), (drafted, stats)) in &results {
        assert_eq!(drafted, plain, "drafted {stats:?} vs plain {plain_stats:?}");
        assert_eq!(stats.generated_tokens, plain_stats.generated_tokens);
        assert!(stats.draft_tokens > 0 && stats.draft_accepted_tokens > 0, "{stats:?}");
    }
    // Greedy, the model drafting for itself: nearly every draft is what it picks. (Sampled,
    // fewer: llama.cpp's draft model drafts its likeliest tokens, the sampler draws.)
    let greedy_stats = &results[0].1 .1;
    assert!(
        greedy_stats.draft_accepted_tokens * 2 > greedy_stats.draft_tokens,
        "the same model's drafts were mostly refused: {greedy_stats:?}"
    );
}

#[tokio::test]
async fn a_follow_up_turn_and_concurrent_requests_draft_in_their_own_slots() {
    let first = ask(EDIT, greedy(40));
    let engine = Engine::start();
    load(&engine, Drafting::default()).await;
    let (plain_first, _) = answer(&engine, first.clone()).await;
    let follow_up = |reply: &str| {
        GenerateRequest::new(
            vec![
                ChatMessage::new(Role::User, EDIT),
                ChatMessage::new(Role::Assistant, reply),
                ChatMessage::new(Role::User, "Now rename `tax_rate` to `rate` as well."),
            ],
            greedy(40),
        )
    };
    let (plain_second, _) = answer(&engine, follow_up(&plain_first)).await;
    let (plain_poem, _) = answer(&engine, ask("Name three colours.", greedy(24))).await;

    load(&engine, draft_model()).await;
    let (drafted_first, _) = answer(&engine, first).await;
    assert_eq!(drafted_first, plain_first);
    // The follow-up reuses the first turn's cache (the draft model's too).
    let (second, stats) = answer(&engine, follow_up(&drafted_first)).await;
    assert_eq!(second, plain_second);
    assert!(stats.cached_tokens > 0, "the follow-up computed its whole prompt: {stats:?}");
    assert!(stats.draft_accepted_tokens > 0, "{stats:?}");
    // Two at once, each in its own slot.
    let a = engine.generate(follow_up(&drafted_first)).unwrap();
    let b = engine.generate(ask("Name three colours.", greedy(24))).unwrap();
    let (a, b) = tokio::join!(common::collect(a), common::collect(b));
    assert_eq!(a.0, plain_second);
    assert_eq!(b.0, plain_poem);
    assert!(a.1.draft_tokens > 0 && b.1.draft_tokens > 0, "{a:?} {b:?}");
}

#[tokio::test]
async fn logprobs_come_per_token_and_a_request_may_turn_drafting_off() {
    // Compared with a plain load's answer in the same cache state (a fresh slot): a prompt
    // read in one batch and one whose last token is read again after a cached prefix may
    // differ in the last bits of their logits, drafting or not.
    let mut with_logprobs = ask(EDIT, greedy(32));
    with_logprobs.logprobs = Some(2);
    let engine = Engine::start();
    load(&engine, Drafting::default()).await;
    let (plain, _) = answer(&engine, with_logprobs.clone()).await;
    load(&engine, ngrams()).await;
    let mut g = engine.generate(with_logprobs).unwrap();
    let (mut text, mut logprobs) = (String::new(), 0);
    let stats = loop {
        match g.events.recv().await.unwrap() {
            sirocco_engine::GenerationEvent::Text { text: t, logprobs: l, .. } => {
                text.push_str(&t);
                logprobs += l.len();
            }
            sirocco_engine::GenerationEvent::Done { stats } => break stats,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(text, plain);
    assert!(stats.draft_accepted_tokens > 0, "{stats:?}");
    assert_eq!(logprobs, stats.generated_tokens, "one log-probability per token, drafted or not");

    let mut off = ask(EDIT, greedy(32));
    off.drafting = Some(DraftLimits { n_max: Some(0), n_min: None });
    let (_, stats) = answer(&engine, off).await;
    assert_eq!(stats.draft_tokens, 0);
    assert_eq!(stats.draft_off.as_deref(), Some("the request turned drafting off"));
}

#[tokio::test]
async fn a_draft_model_with_another_vocabulary_is_refused_by_name() {
    let engine = Engine::start();
    let drafting = Drafting { draft_model: Some(fixture(TINY_MISTRAL)), ..draft_model() };
    let params = LoadParams { context_length: Some(1024), drafting, ..LoadParams::default() };
    let err = engine
        .load(&fixture(SMOLLM2), params, |_| {}, Arc::new(AtomicBool::new(false)))
        .await
        .expect_err("a draft model with another vocabulary cannot draft");
    assert!(err.to_string().contains("vocabulary"), "{err}");
    // The engine is still there for a load that works.
    load(&engine, ngrams()).await;
}

/// A grammar holds drafted tokens too (a drafted token the grammar forbids is never picked),
/// and a stop string met inside a draft ends the answer where plain decoding ends it.
#[tokio::test]
async fn a_json_schema_and_stop_strings_hold_with_drafts() {
    let schema = serde_json::json!({
        "type": "object",
        "properties": {"name": {"type": "string"}, "price": {"type": "number"}, "tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["name", "price", "tags"]
    });
    let json = ask(
        &format!("{EDIT}\n\nDescribe the function as JSON with its name, a price of 3 and tags."),
        SamplingParams { json_schema: Some(schema), ..greedy(80) },
    );
    let stop = ask(EDIT, SamplingParams { stop: vec!["subtotal +=".into()], ..greedy(96) });
    let results = plain_and_drafted(ngrams(), &[json, stop]).await;
    let ((plain_json, _), (drafted_json, json_stats)) = &results[0];
    assert_eq!(drafted_json, plain_json, "{json_stats:?}");
    let value: serde_json::Value = serde_json::from_str(drafted_json).expect("the schema's JSON");
    assert!(value["price"].is_number(), "{value}");
    let ((plain_stop, plain_stats), (drafted_stop, stats)) = &results[1];
    assert_eq!(drafted_stop, plain_stop);
    assert_eq!(stats.stop_sequence, plain_stats.stop_sequence);
    assert!(results.iter().any(|(_, (_, s))| s.draft_accepted_tokens > 0), "nothing was drafted: {results:?}");
}
