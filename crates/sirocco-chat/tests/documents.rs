//! Questions with documents on a real model (SmolLM2) and a real SQLite file, the documents
//! made by real tools (fpdf2, see tests/fixtures/make_documents.py) and read in the real reader
//! process: a short PDF goes in whole; a long one is split, embedded (once: the vectors are
//! kept) and searched, and the passage holding the answer is among those given, the same ones
//! on every later turn; a damaged file fails the turn before anything is kept.

use std::path::PathBuf;

use base64::Engine as _;
use sirocco_chat::{run_turn_with_tools, NewAttachment, Reading, Turn, TurnEvent, TurnRequest};
use sirocco_engine::{Engine, LoadParams, SamplingParams};
use sirocco_store::Store;

fn fixtures() -> PathBuf {
    std::env::var_os("SIROCCO_FIXTURES").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/sirocco/fixtures")
    })
}

fn document(name: &str) -> NewAttachment {
    let path = fixtures().join("documents").join(name);
    let bytes =
        std::fs::read(&path).unwrap_or_else(|_| panic!("missing {} — run tests/fixtures/fetch.sh", path.display()));
    NewAttachment {
        name: name.into(),
        mime: String::new(),
        data: base64::engine::general_purpose::STANDARD.encode(bytes),
    }
}

/// The reader process binary (sirocco-documents' own), built when missing.
fn use_reader() {
    let debug = std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().to_path_buf();
    let reader = debug.join("sirocco-read-document");
    if !reader.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let built = std::process::Command::new(cargo)
            .args(["build", "-p", "sirocco-documents", "--bin", "sirocco-read-document"])
            .status()
            .unwrap();
        assert!(built.success());
    }
    sirocco_documents::set_reader_program(reader);
}

struct Turned {
    events: Vec<TurnEvent>,
    conversation_id: i64,
    question_id: i64,
}

async fn ask(store: &Store, engine: &Engine, conversation_id: Option<i64>, turn: Turn) -> sirocco_chat::Result<Turned> {
    ask_with(store, engine, engine, "smollm2", conversation_id, turn).await
}

/// A turn answered by `engine` whose documents are searched with `embedder`'s vectors.
async fn ask_with(
    store: &Store,
    engine: &Engine,
    embedder: &Engine,
    embedder_name: &str,
    conversation_id: Option<i64>,
    turn: Turn,
) -> sirocco_chat::Result<Turned> {
    let reading = Reading { context_length: 2048, embedder, embedder_name: embedder_name.into() };
    let request = TurnRequest {
        conversation_id,
        turn,
        sampling: SamplingParams { temperature: 0.0, max_tokens: 3, ignore_eos: true, ..SamplingParams::default() },
        ..TurnRequest::default()
    };
    let mut events = Vec::new();
    run_turn_with_tools(
        store,
        engine,
        request,
        None,
        Some(&reading),
        |_| {},
        |e| {
            events.push(e);
            true
        },
    )
    .await?;
    let (mut conversation_id, mut question_id) = (0, 0);
    for e in &events {
        match e {
            TurnEvent::Started { conversation_id: c, added, .. } => {
                conversation_id = *c;
                question_id = added.last().map_or(0, |m| m.id);
            }
            TurnEvent::Error { message } => panic!("the turn failed: {message}"),
            _ => {}
        }
    }
    Ok(Turned { events, conversation_id, question_id })
}

fn send(text: &str, attachments: Vec<NewAttachment>, parent_id: Option<i64>) -> Turn {
    Turn::Send { parent_id, text: text.into(), attachments }
}

#[tokio::test]
async fn documents_go_in_whole_or_by_their_best_passages() {
    use_reader();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("chats.db")).await.unwrap();
    let engine = Engine::start();
    let params = LoadParams { context_length: Some(2048), parallel: 1, ..LoadParams::default() };
    let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    engine.load(&fixtures().join("SmolLM2-135M-Instruct.Q4_1.gguf"), params, |_| {}, cancel).await.unwrap();
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("documents/reference.json")).unwrap()).unwrap();

    // A short report fits: it goes in whole, and the prompt holds all of it.
    let plain = ask(&store, &engine, None, send("What is the harbour tax?", Vec::new(), None)).await.unwrap();
    let with =
        ask(&store, &engine, None, send("What is the harbour tax?", vec![document("report.pdf")], None)).await.unwrap();
    let question = store.message(with.question_id).await.unwrap();
    assert_eq!(question.attachments.len(), 1);
    assert_eq!(question.attachments[0].mime, "application/pdf");
    assert_eq!(question.content, "What is the harbour tax?", "the document is not in the message's text");
    let [source] = &question.sources[..] else { panic!("one source: {:?}", question.sources) };
    assert!(source.whole && source.passages.is_empty() && source.pages == Some(3), "{source:?}");
    let kept = store.document_text(&source.hash).await.unwrap().expect("the text is kept");
    assert!(kept.text.contains("17 copper crowns"));
    let report_tokens = engine.tokenize(kept.text.clone(), false, false).await.unwrap().len();
    assert!(prompt_tokens(&with) >= prompt_tokens(&plain) + report_tokens, "the whole report is in the prompt");
    assert!(with
        .events
        .iter()
        .any(|e| matches!(e, TurnEvent::Sources { sources, .. } if sources == &question.sources)));
    assert!(
        !with.events.iter().any(|e| matches!(e, TurnEvent::Reading { .. })),
        "nothing embedded for a whole document"
    );

    // A long almanac does not fit: it is split, embedded with progress, and searched.
    let almanac = &reference["almanac.pdf"];
    let long =
        ask(&store, &engine, None, send(almanac["question"].as_str().unwrap(), vec![document("almanac.pdf")], None))
            .await
            .unwrap();
    let question = store.message(long.question_id).await.unwrap();
    let [source] = &question.sources[..] else { panic!("one source: {:?}", question.sources) };
    assert!(!source.whole && source.passage_count > 20, "{source:?}");
    assert!(!source.passages.is_empty() && source.passages.len() < source.passage_count as usize);
    let answer = almanac["answer"].as_str().unwrap();
    assert!(
        source.passages.iter().any(|p| p.text.contains(answer)),
        "the passage with the answer is used: {source:#?}"
    );
    let numbers: Vec<u32> = source.passages.iter().map(|p| p.number).collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "in the document's order: {numbers:?}");
    let progress: Vec<(u32, u32)> = long
        .events
        .iter()
        .filter_map(|e| if let TurnEvent::Reading { done, total, .. } = e { Some((*done, *total)) } else { None })
        .collect();
    assert_eq!(progress.first(), Some(&(0, source.passage_count)));
    assert_eq!(progress.last(), Some(&(source.passage_count, source.passage_count)));
    let vectors = store.passage_vectors(&source.hash, "smollm2").await.unwrap().expect("vectors are kept");
    assert_eq!(vectors.len(), source.passage_count as usize);

    // A later turn in that conversation gives the model the same passages (the question keeps
    // its sources) and embeds nothing again; a new question on the same file reuses the vectors.
    let answer_id = long
        .events
        .iter()
        .find_map(|e| if let TurnEvent::Started { answer_id, .. } = e { Some(*answer_id) } else { None })
        .unwrap();
    let next = ask(&store, &engine, Some(long.conversation_id), send("Thank you.", Vec::new(), Some(answer_id)))
        .await
        .unwrap();
    assert_eq!(store.message(long.question_id).await.unwrap().sources, question.sources);
    assert!(prompt_tokens(&next) > 200 * source.passages.len(), "the passages are still in the prompt");
    let again = ask(&store, &engine, None, send("Which island exports amber?", vec![document("almanac.pdf")], None))
        .await
        .unwrap();
    assert!(!again.events.iter().any(|e| matches!(e, TurnEvent::Reading { .. })), "the vectors were kept");
    let amber = store.message(again.question_id).await.unwrap();
    // Amber is in four islands' sections of forty (where it is exported and sold).
    assert!(amber.sources[0].passages.iter().any(|p| p.text.contains("amber")), "{:#?}", amber.sources);

    // Export and import keep the files and what was used; deleting every conversation that
    // holds a document removes its text and vectors.
    let export = serde_json::to_vec(&store.export(&[long.conversation_id]).await.unwrap()).unwrap();
    let imported = store.import(&export).await.unwrap();
    let copy = store.current_branch(imported[0]).await.unwrap();
    assert_eq!(copy.iter().find(|m| !m.sources.is_empty()).unwrap().sources, question.sources);
    for c in [long.conversation_id, again.conversation_id, imported[0]] {
        store.delete_conversation(c).await.unwrap();
    }
    assert_eq!(store.document_text(&source.hash).await.unwrap(), None);
    assert_eq!(store.passage_vectors(&source.hash, "smollm2").await.unwrap(), None);
    assert!(store.document_text(&question_hash(&store, with.question_id).await).await.unwrap().is_some());
}

/// A library embedding model (the tiny `bert` fixture, 512 tokens) searches the passages: its
/// vectors are kept under its name, each passage cut to its context, and a question sent with
/// no text gets the document's beginning.
#[tokio::test]
async fn an_embedding_model_from_the_library_searches_the_passages() {
    use_reader();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("chats.db")).await.unwrap();
    let (chat, bert) = (Engine::start(), Engine::start());
    let cancel = || std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let params = LoadParams { context_length: Some(2048), parallel: 1, ..LoadParams::default() };
    chat.load(&fixtures().join("SmolLM2-135M-Instruct.Q4_1.gguf"), params, |_| {}, cancel()).await.unwrap();
    let params = LoadParams { context_length: Some(512), parallel: 1, ..LoadParams::default() };
    bert.load(&fixtures().join("embedding/Tiny-BERT-Embed-F32.gguf"), params, |_| {}, cancel()).await.unwrap();

    let question = "Who built the lighthouse on Vellmar, and when?";
    let turned = ask_with(
        &store,
        &chat,
        &bert,
        "Tiny-BERT-Embed-F32",
        None,
        send(question, vec![document("almanac.pdf")], None),
    )
    .await
    .unwrap();
    let sources = store.message(turned.question_id).await.unwrap().sources;
    let hash = &sources[0].hash;
    // Its random weights rank by letters, not meaning: that passages were chosen with its
    // vectors is what is checked here (how well is the SmolLM2 test's).
    assert!(!sources[0].whole && !sources[0].passages.is_empty(), "{sources:#?}");
    let vectors = store.passage_vectors(hash, "Tiny-BERT-Embed-F32").await.unwrap().expect("kept under its name");
    assert_eq!((vectors.len(), vectors[0].len()), (sources[0].passage_count as usize, 64));
    assert_eq!(store.passage_vectors(hash, "smollm2").await.unwrap(), None);

    let bare =
        ask_with(&store, &chat, &bert, "Tiny-BERT-Embed-F32", None, send("", vec![document("almanac.pdf")], None))
            .await
            .unwrap();
    let sources = store.message(bare.question_id).await.unwrap().sources;
    assert_eq!(sources[0].passages.first().map(|p| p.number), Some(1), "the beginning: {sources:#?}");
}

#[tokio::test]
async fn a_damaged_document_fails_the_turn_before_anything_is_kept() {
    use_reader();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("chats.db")).await.unwrap();
    let engine = Engine::start();
    let mut broken = document("report.pdf");
    let bytes = base64::engine::general_purpose::STANDARD.decode(&broken.data).unwrap();
    broken.data = base64::engine::general_purpose::STANDARD.encode(&bytes[..bytes.len() / 3]);
    let e = ask(&store, &engine, None, send("Summarise.", vec![broken], None)).await.err().expect("refused");
    assert!(e.to_string().starts_with("report.pdf: this PDF is damaged"), "{e}");
    let e = ask(&store, &engine, None, send("Summarise.", vec![document("loop-form.pdf")], None))
        .await
        .err()
        .expect("refused");
    assert!(e.to_string().starts_with("loop-form.pdf: the document reader stopped"), "{e}");
    let e = ask(
        &store,
        &engine,
        None,
        send(
            "Read.",
            vec![NewAttachment {
                name: "tool.exe".into(),
                mime: "application/x-msdownload".into(),
                data: "AAAA".into(),
            }],
            None,
        ),
    )
    .await
    .err()
    .expect("refused");
    assert!(e.to_string().contains("only images and documents"), "{e}");
    assert!(store.conversations().await.unwrap().is_empty(), "nothing was kept");
}

fn prompt_tokens(t: &Turned) -> usize {
    t.events
        .iter()
        .find_map(|e| if let TurnEvent::Done { stats } = e { Some(stats.prompt_tokens) } else { None })
        .expect("the turn ends with Done")
}

async fn question_hash(store: &Store, id: i64) -> String {
    store.message(id).await.unwrap().attachments[0].hash.clone()
}
