//! A question with an image, on a model that sees (llama.cpp's real `mtmd` with the tiny
//! Pixtral-type fixture) and a real SQLite file: the image is kept once by its SHA-256 apart from
//! the message's text, read back and shown to the model on every later turn (the next turn reuses
//! the cache the image left, which it could not if the image were missing from the history), kept
//! by an edit, exported and imported with its bytes, and removed with the last message that
//! carries it.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use base64::Engine as _;
use sirocco_chat::{run_turn, NewAttachment, Turn, TurnEvent, TurnRequest};
use sirocco_engine::{Engine, GenerationStats, LoadParams, SamplingParams};
use sirocco_store::{Message, Store};

fn fixture(name: &str) -> PathBuf {
    let dir = std::env::var_os("SIROCCO_FIXTURES").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/sirocco/fixtures")
    });
    let path = dir.join(name);
    assert!(path.is_file(), "missing fixture {} — run tests/fixtures/fetch.sh", path.display());
    path
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let pixels: Vec<u8> = (0..width * height * 3).map(|i| (i % 251) as u8).collect();
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_raw(width, height, pixels).unwrap().write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

async fn turn(
    store: &Store,
    engine: &Engine,
    conversation_id: Option<i64>,
    turn: Turn,
) -> (Vec<Message>, i64, GenerationStats) {
    let request = TurnRequest {
        conversation_id,
        turn,
        sampling: SamplingParams { temperature: 0.0, max_tokens: 3, ignore_eos: true, ..SamplingParams::default() },
        ..TurnRequest::default()
    };
    let mut events = Vec::new();
    run_turn(
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
    let (mut added, mut conversation, mut stats) = (Vec::new(), 0, None);
    for e in events {
        match e {
            TurnEvent::Started { added: a, conversation_id, .. } => (added, conversation) = (a, conversation_id),
            TurnEvent::Done { stats: s } => stats = Some(s),
            TurnEvent::Error { message } => panic!("the turn failed: {message}"),
            _ => {}
        }
    }
    (added, conversation, stats.expect("the turn ends with Done"))
}

#[tokio::test]
async fn an_image_is_kept_by_reference_seen_on_later_turns_exported_and_removed_with_its_messages() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("chats.db")).await.unwrap();
    let engine = Engine::start();
    let params = LoadParams {
        context_length: Some(1024),
        parallel: 1,
        projector: Some(fixture("vision/mmproj-Tiny-Pixtral-F32.gguf")),
        ..LoadParams::default()
    };
    engine
        .load(&fixture("vision/Tiny-Pixtral-F16.gguf"), params, |_| {}, Arc::new(AtomicBool::new(false)))
        .await
        .unwrap();

    let image = png(112, 84);
    let attachment = NewAttachment {
        name: "harbour.png".into(),
        mime: "image/png".into(),
        data: base64::engine::general_purpose::STANDARD.encode(&image),
    };
    let send = |parent_id, text: &str, attachments| Turn::Send { parent_id, text: text.into(), attachments };
    let (added, conversation, first) =
        turn(&store, &engine, None, send(None, "What is in this picture?", vec![attachment.clone()])).await;
    let question = added.last().unwrap();
    assert_eq!(question.content, "What is in this picture?", "the text is the text alone");
    assert_eq!(question.attachments.len(), 1);
    let kept = &question.attachments[0];
    assert_eq!((kept.name.as_str(), kept.mime.as_str(), kept.size), ("harbour.png", "image/png", image.len() as u64));
    assert_eq!(kept.hash.len(), 64);
    assert_eq!(store.attachment_bytes(&kept.hash).await.unwrap(), image);
    assert_eq!(first.prompt_tokens, 24, "BOS, [INST], 15 image positions, the text, [/INST]");

    // The next turn: the image comes back from the store into the history, so the cache it
    // left is reused whole.
    let answer = store.current_branch(conversation).await.unwrap().last().unwrap().id;
    let (_, _, second) =
        turn(&store, &engine, Some(conversation), send(Some(answer), "And the colours?", vec![])).await;
    assert!(second.cached_tokens >= first.prompt_tokens, "{second:?} after {first:?}");

    // An edit of the question keeps its image; a question may be an image alone.
    let (edited, _, stats) = turn(
        &store,
        &engine,
        Some(conversation),
        Turn::Edit { message_id: question.id, text: "Describe the picture.".into() },
    )
    .await;
    assert_eq!(edited.last().unwrap().attachments, question.attachments);
    assert!(stats.prompt_tokens > 15, "{stats:?}");
    let (alone, other, _) = turn(&store, &engine, None, send(None, "", vec![attachment.clone()])).await;
    assert_eq!(alone.last().unwrap().content, "");
    assert_eq!(alone.last().unwrap().attachments[0].hash, kept.hash, "the same bytes are kept once");

    // Exported with its bytes, imported as a new conversation with the same image.
    let export = store.export(&[conversation]).await.unwrap();
    let json = serde_json::to_vec(&export).unwrap();
    let exported = &export.conversations[0].messages.iter().find(|m| !m.attachments.is_empty()).unwrap().attachments[0];
    assert_eq!(exported.data, attachment.data);
    let imported = store.import(&json).await.unwrap();
    let branch = store.current_branch(imported[0]).await.unwrap();
    let with_image = branch.iter().find(|m| !m.attachments.is_empty()).expect("the import keeps the image");
    assert_eq!(store.attachment_bytes(&with_image.attachments[0].hash).await.unwrap(), image);

    // The bytes go with the last message that carries them.
    for id in [conversation, other] {
        store.delete_conversation(id).await.unwrap();
        assert!(store.attachment_bytes(&kept.hash).await.is_ok(), "the import still carries the image");
    }
    store.delete_conversation(imported[0]).await.unwrap();
    assert!(store.attachment_bytes(&kept.hash).await.is_err(), "no message carries it any more");

    // Neither an image nor a document, a document where the turn cannot read one, or a file
    // that is not base64: the turn is refused before anything is kept.
    let program =
        NewAttachment { name: "tool.exe".into(), mime: "application/x-msdownload".into(), data: "aGk=".into() };
    let request = TurnRequest { turn: send(None, "Read this.", vec![program]), ..TurnRequest::default() };
    let refused = run_turn(&store, &engine, request, |_| {}, |_| true).await.unwrap_err();
    assert!(refused.to_string().contains("only images and documents"), "{refused}");
    let text_file = NewAttachment { name: "notes.txt".into(), mime: "text/plain".into(), data: "aGk=".into() };
    let request = TurnRequest { turn: send(None, "Read this.", vec![text_file]), ..TurnRequest::default() };
    let refused = run_turn(&store, &engine, request, |_| {}, |_| true).await.unwrap_err();
    assert!(refused.to_string().contains("documents cannot be read in this chat"), "{refused}");
}
