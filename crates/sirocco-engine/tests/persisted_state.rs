//! Persisted KV state: a conversation's cache saved to disk and read back by another engine
//! (as after an app restart), only for the same model and cache settings; a damaged file is
//! ignored, never trusted.

mod common;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use common::{fixture, SMOLLM2};
use sirocco_engine::{
    ChatMessage, Engine, FlashAttention, GenerateRequest, GenerationStats, KvCacheType, LoadParams, Role,
    SamplingParams,
};

async fn engine(dir: &Path, kv: KvCacheType) -> Engine {
    let engine = Engine::start();
    let params = LoadParams {
        context_length: Some(4096),
        state_dir: Some(dir.to_path_buf()),
        kv_cache_type: kv,
        flash_attention: if kv == KvCacheType::F16 { FlashAttention::Auto } else { FlashAttention::On },
        ..LoadParams::default()
    };
    engine.load(&fixture(SMOLLM2), params, |_| {}, Arc::new(AtomicBool::new(false))).await.unwrap();
    engine
}

async fn ask(engine: &Engine, messages: &[ChatMessage], key: Option<&str>) -> (String, GenerationStats) {
    let sampling = SamplingParams { temperature: 0.0, max_tokens: 8, ..SamplingParams::default() };
    let request =
        GenerateRequest { cache_key: key.map(String::from), ..GenerateRequest::new(messages.to_vec(), sampling) };
    common::answer(engine, request).await
}

fn long_conversation() -> Vec<ChatMessage> {
    let mut messages = Vec::new();
    for i in 0..12 {
        messages.push(ChatMessage::new(
            Role::User,
            format!("Note {i}: the lighthouse keeper counted {i} ships today. ").repeat(6),
        ));
        messages.push(ChatMessage::new(Role::Assistant, format!("Noted: {i} ships.")));
    }
    messages.push(ChatMessage::new(Role::User, "How many ships were counted in note 3?"));
    messages
}

/// The saved states (each has a length record beside it).
fn saved_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir).map(|d| d.map(|e| e.unwrap().path()).collect()).unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "kv"));
    for f in &files {
        assert!(f.with_extension("kv.len").is_file(), "{} has no length record", f.display());
    }
    files
}

#[tokio::test]
async fn a_conversation_resumes_from_its_saved_state_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut messages = long_conversation();

    let first = engine(dir.path(), KvCacheType::F16).await;
    let (answer, stats) = ask(&first, &messages, Some("conversation-7")).await;
    assert!(stats.prompt_tokens > 1000, "{}", stats.prompt_tokens);
    assert!(first.persist_state("conversation-7".into()).await.unwrap(), "the state is written");
    assert!(!first.persist_state("another".into()).await.unwrap(), "nothing held under another key");
    assert_eq!(saved_files(dir.path()).len(), 1);
    drop(first);

    // "After a restart": another engine, the same model and settings.
    messages.push(ChatMessage::new(Role::Assistant, answer));
    messages.push(ChatMessage::new(Role::User, "And in note 5?"));
    let second = engine(dir.path(), KvCacheType::F16).await;
    let (again, resumed) = ask(&second, &messages, Some("conversation-7")).await;
    assert!(
        resumed.cached_tokens >= stats.prompt_tokens,
        "restored {} of {}",
        resumed.cached_tokens,
        stats.prompt_tokens
    );
    assert!(resumed.prompt_tokens - resumed.cached_tokens < 40, "only the new turn is computed");
    assert!(!again.is_empty());

    // Without the key nothing is read: the whole prompt is computed.
    let third = engine(dir.path(), KvCacheType::F16).await;
    let (_, cold) = ask(&third, &messages, None).await;
    assert_eq!(cold.cached_tokens, 0);
}

#[tokio::test]
async fn other_settings_or_a_damaged_file_never_read_a_saved_state() {
    let dir = tempfile::tempdir().unwrap();
    let messages = long_conversation();
    let first = engine(dir.path(), KvCacheType::F16).await;
    ask(&first, &messages, Some("c1")).await;
    // Unloading (as the app does when it closes) saves every held conversation.
    first.unload().await.unwrap();
    let files = saved_files(dir.path());
    assert_eq!(files.len(), 1, "saved when the engine stopped: {files:?}");

    // Another cache type: the file is not this load's; nothing is restored, nothing breaks.
    let q8 = engine(dir.path(), KvCacheType::Q8_0).await;
    let (_, stats) = ask(&q8, &messages, Some("c1")).await;
    assert_eq!(stats.cached_tokens, 0);
    q8.unload().await.unwrap();
    assert_eq!(saved_files(dir.path()).len(), 2, "each load's state under its own name");

    // A truncated file (a disk that filled, a copy cut short): never handed to llama.cpp,
    // whose reader aborts the process on one.
    let full = std::fs::read(&files[0]).unwrap();
    std::fs::write(&files[0], &full[..full.len() / 2]).unwrap();
    let f16 = engine(dir.path(), KvCacheType::F16).await;
    let (text, stats) = ask(&f16, &messages, Some("c1")).await;
    assert_eq!(stats.cached_tokens, 0);
    assert!(!text.is_empty());
    f16.unload().await.unwrap();
    assert!(saved_files(dir.path()).contains(&files[0]), "saved again, whole, when that model unloaded");

    // A damaged byte in the middle (same length): the content hash tells, nothing is restored.
    let mut damaged = std::fs::read(&files[0]).unwrap();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x40;
    std::fs::write(&files[0], &damaged).unwrap();
    let again = engine(dir.path(), KvCacheType::F16).await;
    let (text, stats) = ask(&again, &messages, Some("c1")).await;
    assert_eq!(stats.cached_tokens, 0, "a changed state is never read");
    assert!(!text.is_empty());
    again.unload().await.unwrap();

    // A header claiming more tokens than the file holds never reaches llama.cpp.
    std::fs::write(&files[0], [b"qsgg".as_slice(), &4u32.to_le_bytes(), &1_000_000u32.to_le_bytes()].concat()).unwrap();
    let fresh = engine(dir.path(), KvCacheType::F16).await;
    let (_, stats) = ask(&fresh, &messages, Some("c1")).await;
    assert_eq!(stats.cached_tokens, 0);
}
