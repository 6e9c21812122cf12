//! Conversation turns on a real model (SmolLM2) and a real SQLite file: send, regenerate, edit,
//! continue, personas and presets' system prompts, and a stop that keeps what was generated.

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use sirocco_chat::{run_turn, Turn, TurnEvent, TurnRequest};
use sirocco_engine::{Engine, LoadParams, SamplingParams};
use sirocco_store::{MessageStatus, PersonaDraft, Role, Store};

fn smollm2() -> PathBuf {
    let dir = std::env::var_os("SIROCCO_FIXTURES").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/sirocco/fixtures")
    });
    let path = dir.join("SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(path.is_file(), "missing fixture {} — run tests/fixtures/fetch.sh", path.display());
    path
}

async fn setup() -> (tempfile::TempDir, Store, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("chats.db")).await.unwrap();
    let engine = Engine::start();
    let params = LoadParams { context_length: Some(2048), ..LoadParams::default() };
    engine.load(&smollm2(), params, |_| {}, Arc::new(AtomicBool::new(false))).await.expect("SmolLM2 loads");
    (dir, store, engine)
}

fn greedy(max_tokens: u32) -> SamplingParams {
    SamplingParams { temperature: 0.0, max_tokens, ..SamplingParams::default() }
}

/// Runs a turn and returns (events, answer id).
async fn turn(store: &Store, engine: &Engine, request: TurnRequest) -> (Vec<TurnEvent>, i64) {
    let mut events = Vec::new();
    let id = run_turn(
        store,
        engine,
        request,
        |_| {},
        |e| {
            events.push(e);
            true
        },
    )
    .await
    .expect("the turn runs");
    (events, id)
}

fn text_of(events: &[TurnEvent]) -> String {
    events
        .iter()
        .filter_map(|e| if let TurnEvent::Text { text, .. } = e { Some(text.as_str()) } else { None })
        .collect()
}

#[tokio::test]
async fn send_regenerate_edit_and_continue_make_branches_in_the_store() {
    let (_dir, store, engine) = setup().await;
    // Send: a new conversation titled from the question.
    let (events, a1) = turn(
        &store,
        &engine,
        TurnRequest {
            turn: Turn::Send {
                parent_id: None,
                text: "What is the capital of France?\nAnswer briefly.".into(),
                attachments: Vec::new(),
            },
            sampling: greedy(24),
            ..TurnRequest::default()
        },
    )
    .await;
    let TurnEvent::Started { conversation_id: c, title, added, answer_id } = &events[0] else { panic!("{events:?}") };
    assert_eq!((title.as_str(), *answer_id), ("What is the capital of France?", a1));
    assert_eq!(added.len(), 1);
    assert!(matches!(events.last(), Some(TurnEvent::Done { .. })), "{events:?}");
    let c = *c;
    let q = added[0].id;
    let answer = store.message(a1).await.unwrap();
    assert_eq!(answer.content, text_of(&events), "what streamed is what was saved");
    assert!(answer.content.contains("Paris"), "{}", answer.content);
    assert_eq!(answer.status, MessageStatus::Complete);
    assert!(answer.stats.as_ref().unwrap()["generated_tokens"].as_u64().unwrap() > 0);
    // While it streams, each text says how much of the context is in use: past the prompt,
    // growing, and at the end what the stats say.
    let used: Vec<usize> = events
        .iter()
        .filter_map(|e| if let TurnEvent::Text { context_used, .. } = e { *context_used } else { None })
        .collect();
    let TurnEvent::Done { stats } = events.last().unwrap() else { unreachable!() };
    assert!(used.len() > 1 && used.windows(2).all(|w| w[0] <= w[1]) && used[0] < used[used.len() - 1], "{used:?}");
    assert!(used[0] > stats.prompt_tokens && used[0] < stats.context_used, "{used:?} vs {stats:?}");
    assert_eq!(*used.last().unwrap(), stats.context_used, "{used:?} vs {stats:?}");

    // Regenerate with other sampling: a second answer to the same question.
    let (events, a2) = turn(
        &store,
        &engine,
        TurnRequest {
            conversation_id: Some(c),
            turn: Turn::Regenerate { question_id: q },
            sampling: SamplingParams { temperature: 1.2, seed: 7, max_tokens: 16, ..SamplingParams::default() },
            ..TurnRequest::default()
        },
    )
    .await;
    assert!(matches!(events.last(), Some(TurnEvent::Done { .. })));
    let view = store.branch_view(c).await.unwrap();
    assert_eq!(
        view.iter().map(|m| (m.message.id, m.sibling_index, m.sibling_count)).collect::<Vec<_>>(),
        [(q, 1, 1), (a2, 2, 2)]
    );

    // Edit the question: a sibling question with its own answer.
    let (events, a3) = turn(
        &store,
        &engine,
        TurnRequest {
            conversation_id: Some(c),
            turn: Turn::Edit { message_id: q, text: "What is the capital of Italy? Answer briefly.".into() },
            sampling: greedy(24),
            ..TurnRequest::default()
        },
    )
    .await;
    assert!(text_of(&events).contains("Rome"), "{}", text_of(&events));
    let view = store.branch_view(c).await.unwrap();
    assert_eq!(view.len(), 2);
    assert_eq!((view[0].sibling_index, view[0].sibling_count, view[1].message.id), (2, 2, a3));

    // Continue the answer: text is appended to the same message.
    let before = store.message(a3).await.unwrap().content;
    let (events, same) = turn(
        &store,
        &engine,
        TurnRequest {
            conversation_id: Some(c),
            turn: Turn::Continue { answer_id: a3 },
            sampling: SamplingParams { ignore_eos: true, ..greedy(8) },
            ..TurnRequest::default()
        },
    )
    .await;
    assert_eq!(same, a3);
    let after = store.message(a3).await.unwrap().content;
    assert!(after.len() > before.len() && after.starts_with(&before), "{before:?} → {after:?}");
    assert_eq!(after, format!("{before}{}", text_of(&events)));

    // A message from another conversation is refused before anything is written.
    let other = store.create_conversation("other").await.unwrap();
    let err = run_turn(
        &store,
        &engine,
        TurnRequest {
            conversation_id: Some(other),
            turn: Turn::Regenerate { question_id: q },
            ..TurnRequest::default()
        },
        |_| {},
        |_| true,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("not in this conversation"), "{err}");
    assert!(store.branch_view(other).await.unwrap().is_empty());
}

#[tokio::test]
async fn personas_greet_and_speak_and_a_stop_keeps_the_partial_answer() {
    let (_dir, store, engine) = setup().await;
    let persona = store
        .create_persona(&PersonaDraft {
            name: "Pirate Pete".into(),
            greeting: "Ahoy, {{user}}!".into(),
            system_prompt: "You are {{char}}, a pirate. Always answer like a pirate and say 'Arr'.".into(),
            ..PersonaDraft::default()
        })
        .await
        .unwrap();
    let cancel_flag: Arc<Mutex<Option<Arc<AtomicBool>>>> = Arc::default();
    let flag = cancel_flag.clone();
    let mut pieces = 0;
    let mut events = Vec::new();
    let answer = run_turn(
        &store,
        &engine,
        TurnRequest {
            turn: Turn::Send {
                parent_id: None,
                text: "Tell me a long story about the sea.".into(),
                attachments: Vec::new(),
            },
            persona_id: Some(persona),
            user_name: "Ada".into(),
            reply_prefix: Some("Arr,".into()),
            sampling: SamplingParams { ignore_eos: true, ..greedy(400) },
            ..TurnRequest::default()
        },
        move |c| *flag.lock().unwrap() = Some(c),
        |e| {
            if matches!(e, TurnEvent::Text { .. }) {
                pieces += 1;
                if pieces == 6 {
                    // The user presses Stop.
                    cancel_flag.lock().unwrap().as_ref().unwrap().store(true, Ordering::Relaxed);
                }
            }
            events.push(e);
            true
        },
    )
    .await
    .unwrap();
    let TurnEvent::Started { conversation_id, added, .. } = &events[0] else { panic!() };
    // The greeting first (macros expanded), then the question.
    assert_eq!((added[0].role, added[0].content.as_str()), (Role::Assistant, "Ahoy, Ada!"));
    assert_eq!(added[1].role, Role::User);
    let saved = store.message(answer).await.unwrap();
    assert_eq!(saved.status, MessageStatus::Stopped);
    assert!(saved.content.starts_with("Arr,"), "{:?}", saved.content);
    assert_eq!(saved.content, text_of(&events));
    let TurnEvent::Done { stats } = events.last().unwrap() else { panic!("{events:?}") };
    assert!(stats.generated_tokens < 20, "stopped within a token of the request: {}", stats.generated_tokens);
    let conversation = store.conversation(*conversation_id).await.unwrap();
    assert_eq!(conversation.persona_id, Some(persona));
}

#[tokio::test]
async fn a_persona_opens_with_the_greeting_the_user_picked_and_keeps_the_others_as_branches() {
    let (_dir, store, engine) = setup().await;
    let persona = store
        .create_persona(&PersonaDraft {
            name: "Lumen".into(),
            greeting: "The lamp is lit, {{user}}.".into(),
            alternate_greetings: vec!["Storm tonight.".into(), "Who goes there, {{user}}?".into()],
            ..PersonaDraft::default()
        })
        .await
        .unwrap();
    let mut events = Vec::new();
    run_turn(
        &store,
        &engine,
        TurnRequest {
            turn: Turn::Send { parent_id: None, text: "Hello.".into(), attachments: Vec::new() },
            persona_id: Some(persona),
            user_name: "Ada".into(),
            greeting: 2,
            sampling: greedy(4),
            ..TurnRequest::default()
        },
        |_| {},
        |e| {
            events.push(e);
            true
        },
    )
    .await
    .unwrap();
    let TurnEvent::Started { conversation_id, added, .. } = &events[0] else { panic!() };
    assert_eq!(added[0].content, "Who goes there, Ada?");
    let branch = store.branch_view(*conversation_id).await.unwrap();
    assert_eq!(branch[0].message.content, "Who goes there, Ada?");
    assert_eq!((branch[0].sibling_index, branch[0].sibling_count), (3, 3), "‹ 3/3 › on the greeting");
    let openings: Vec<_> = store.siblings(branch[0].message.id).await.unwrap().into_iter().map(|m| m.content).collect();
    assert_eq!(openings, ["The lamp is lit, Ada.", "Storm tonight.", "Who goes there, Ada?"]);
    assert_eq!(branch[1].message.content, "Hello.");
}

/// Lumen, a persona with `system_prompt` and one lorebook entry, `lore`, keyed on "lighthouse".
async fn lighthouse_keeper(store: &Store, system_prompt: &str, lore: &str) -> i64 {
    store
        .create_persona(&PersonaDraft {
            name: "Lumen".into(),
            system_prompt: system_prompt.into(),
            lorebook: vec![sirocco_store::LoreEntry {
                keys: vec!["lighthouse".into()],
                content: lore.into(),
                ..Default::default()
            }],
            ..PersonaDraft::default()
        })
        .await
        .unwrap()
}

/// A persona's lorebook entry reaches the model only in a turn whose latest messages mention
/// its keyword (seen in the prompt's token count: the same question with and without it).
#[tokio::test]
async fn a_lorebook_entry_is_told_only_when_its_keyword_comes_up() {
    let (_dir, store, engine) = setup().await;
    let lore = "The lighthouse on Skerry Point was built in 1852; its lamp burns whale oil and the keeper, {{char}}, has never left the island.";
    let persona = lighthouse_keeper(&store, "You are {{char}}.", lore).await;
    let prompt_tokens = |question: &'static str| {
        let (store, engine) = (store.clone(), engine.clone());
        async move {
            let mut stats = None;
            let request = TurnRequest {
                turn: Turn::Send { parent_id: None, text: question.into(), attachments: Vec::new() },
                persona_id: Some(persona),
                sampling: greedy(1),
                ..TurnRequest::default()
            };
            run_turn(
                &store,
                &engine,
                request,
                |_| {},
                |e| {
                    if let TurnEvent::Done { stats: s } = e {
                        stats = Some(s.prompt_tokens);
                    }
                    true
                },
            )
            .await
            .unwrap();
            stats.expect("the turn finished")
        }
    };
    let without = prompt_tokens("Tell me about the harbour.").await;
    let with = prompt_tokens("Tell me about the lighthouse.").await;
    let lore_tokens = engine.tokenize(lore.replace("{{char}}", "Lumen"), false, false).await.unwrap().len();
    assert!(
        with >= without + lore_tokens,
        "with the keyword {with} tokens, without {without}; the entry is {lore_tokens}"
    );
}

/// An entry that comes up in a later turn goes with that turn's question: the conversation
/// before it stays in the engine's cache (it was in the system message, so the whole
/// conversation was read again each time an entry came up or dropped out).
#[tokio::test]
async fn a_lorebook_entry_coming_up_keeps_the_conversation_before_it_cached() {
    let (_dir, store, engine) = setup().await;
    let lore = "The lighthouse on Skerry Point was built in 1852 by {{char}}'s grandfather.";
    let persona = lighthouse_keeper(&store, "You are {{char}}, a keeper who answers in one sentence.", lore).await;
    let stats_of = |events: &[TurnEvent]| match events.last() {
        Some(TurnEvent::Done { stats }) => stats.clone(),
        other => panic!("the turn did not finish: {other:?}"),
    };
    let ask = |conversation_id: Option<i64>, parent_id: Option<i64>, text: &str| TurnRequest {
        conversation_id,
        turn: Turn::Send { parent_id, text: text.into(), attachments: Vec::new() },
        persona_id: Some(persona),
        sampling: greedy(16),
        ..TurnRequest::default()
    };
    let (events, first) = turn(&store, &engine, ask(None, None, "Tell me about the harbour.")).await;
    let TurnEvent::Started { conversation_id, .. } = &events[0] else { panic!("{events:?}") };
    let conversation_id = *conversation_id;
    let before = stats_of(&events);

    let (events, second) =
        turn(&store, &engine, ask(Some(conversation_id), Some(first), "And who built the lighthouse?")).await;
    let after = stats_of(&events);
    // Everything the first turn read is still cached; only the answer, the new question and
    // the entry are read now.
    assert!(
        after.cached_tokens >= before.prompt_tokens,
        "{} of {} tokens cached; the first turn's prompt was {}",
        after.cached_tokens,
        after.prompt_tokens,
        before.prompt_tokens
    );
    let lore_tokens = engine.tokenize(lore.replace("{{char}}", "Lumen"), false, false).await.unwrap().len();
    assert!(after.prompt_tokens - after.cached_tokens >= lore_tokens, "the entry is in the new part of the prompt");
    // The conversation keeps what the user wrote: the entry is only in the prompt.
    let branch = store.path_to(second).await.unwrap();
    let questions: Vec<&str> = branch.iter().filter(|m| m.role == Role::User).map(|m| m.content.as_str()).collect();
    assert_eq!(questions, ["Tell me about the harbour.", "And who built the lighthouse?"]);
}

/// ChatML whose generation prompt opens a thought (as Qwen 3's and DeepSeek R1's do).
const THINKING_TEMPLATE: &str =
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}\
<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n<think>\n{% endif %}";

#[tokio::test]
async fn a_thought_streams_and_is_saved_apart_from_the_answer_with_its_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("chats.db")).await.unwrap();
    let engine = Engine::start();
    let params = LoadParams {
        context_length: Some(1024),
        chat_template_override: Some(THINKING_TEMPLATE.into()),
        ..LoadParams::default()
    };
    engine.load(&smollm2(), params, |_| {}, Arc::new(AtomicBool::new(false))).await.expect("SmolLM2 loads");
    let (events, a) = turn(
        &store,
        &engine,
        TurnRequest {
            turn: Turn::Send {
                parent_id: None,
                text: "Write a long story about the sea.".into(),
                attachments: Vec::new(),
            },
            sampling: greedy(40),
            // SmolLM2 never closes a thought itself: the budget does, and the answer follows.
            thinking_budget: Some(10),
            ..TurnRequest::default()
        },
    )
    .await;
    let shape = common::shape(&events);
    assert_eq!(shape, "sretd", "started, thought, its end, answer, done: {shape}");
    let thought: String = events
        .iter()
        .filter_map(|e| if let TurnEvent::Reasoning { text } = e { Some(text.as_str()) } else { None })
        .collect();
    let ms = events.iter().find_map(|e| if let TurnEvent::ThoughtEnded { ms } = e { Some(*ms) } else { None });
    let saved = store.message(a).await.unwrap();
    assert_eq!(saved.reasoning.as_deref(), Some(thought.as_str()));
    assert_eq!(saved.content, text_of(&events), "the answer is saved without the thought");
    assert!(!saved.content.is_empty() && !saved.content.contains("think>") && !thought.contains("think>"));
    assert_eq!(saved.reasoning_ms, ms);
}
