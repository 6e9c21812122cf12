//! `Runtime::open` on a real data folder (SQLite file, settings in effect, the library); the
//! local server's start, replacement and stop over real HTTP on loopback, serving a real model
//! file from the library; a turn and one-off answers on a real model, stopped by stream.

use std::net::SocketAddr;
use std::path::PathBuf;

use sirocco_engine::LoadParams;
use sirocco_folders::AppFolders;
use sirocco_runtime::{ModelMemory, Runtime, Serving, Settings, WorkerEntry};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn fixture(name: &str) -> PathBuf {
    let path = PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/sirocco/fixtures").join(name);
    assert!(path.is_file(), "missing fixture {} — run tests/fixtures/fetch.sh", path.display());
    path
}

/// `GET path` on `addr`, the whole answer (head and body).
async fn get(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    Ok(answer)
}

#[tokio::test]
async fn a_fresh_data_folder_opens_with_its_store_and_the_settings_in_effect() {
    let dir = tempfile::tempdir().unwrap();
    let folders = AppFolders::under(&dir.path().join("data"));
    let added = dir.path().join("added");
    std::fs::create_dir_all(&added).unwrap();
    let only_here = dir.path().join("only-this-run");
    std::fs::create_dir_all(&only_here).unwrap();
    let settings = Settings {
        library_locations: vec![added.clone()],
        model_memory: ModelMemory { max_models: Some(1), reserve_ram: 3_000_000_000 },
        workers: vec![
            WorkerEntry { endpoint: "10.0.0.2:50052".into(), enabled: true },
            WorkerEntry { endpoint: "10.0.0.3:50052".into(), enabled: false },
        ],
        ..Settings::default()
    };

    let runtime = Runtime::open_with_folders(folders.clone(), &settings, vec![only_here.clone(), added.clone()])
        .await
        .expect("opens");

    assert!(folders.database().is_file(), "the store is a SQLite file in the new data folder");
    assert!(runtime.store.conversations().await.unwrap().is_empty());
    let host = runtime.host.config();
    assert_eq!((host.max_models, host.reserve_ram), (Some(1), 3_000_000_000), "the saved model memory is the host's");
    assert_eq!(runtime.workers_for(0), Vec::<String>::new(), "no layer offloaded: no worker");
    assert_eq!(runtime.workers_for(8), vec!["10.0.0.2:50052".to_owned()], "only the enabled worker");
    let roots = runtime.library_roots();
    for folder in [&folders.models, &added, &only_here] {
        assert_eq!(
            roots.folders.iter().filter(|f| *f == folder).count(),
            1,
            "{} once in {:?}",
            folder.display(),
            roots.folders
        );
    }
}

#[tokio::test]
async fn a_data_folder_that_cannot_be_made_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a folder").unwrap();
    let error = match Runtime::open(AppFolders::under(&file.join("data")), &Settings::default()).await {
        Ok(_) => panic!("a data folder under a file opened"),
        Err(e) => e.to_string(),
    };
    assert!(error.contains("a-file"), "the error names the path: {error}");
}

#[tokio::test]
async fn the_server_serves_the_library_is_replaced_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let folders = AppFolders::under(dir.path());
    std::fs::create_dir_all(&folders.models).unwrap();
    std::fs::copy(fixture("tiny-coder-fim.gguf"), folders.models.join("tiny-coder-fim.gguf")).unwrap();
    let runtime = Runtime::open(folders, &Settings::default()).await.unwrap();
    assert_eq!(runtime.server_addr().await, None);

    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let serving = Serving { addr: Some(loopback), on_demand: Some(LoadParams::default()), ..Serving::default() };
    let first = runtime.start_server(serving.clone()).await.expect("starts");
    assert_eq!(runtime.server_addr().await, Some(first));
    let models = get(first, "/v1/models").await.unwrap();
    assert!(models.starts_with("HTTP/1.1 200"), "{models}");
    assert!(models.contains("\"tiny-coder-fim\""), "the library model is offered: {models}");

    // Started again (new settings): the old one is stopped, the new one answers.
    let only_loaded = Serving { on_demand: None, ..serving };
    let second = runtime.start_server(only_loaded).await.expect("starts again");
    assert_ne!(first, second);
    assert!(get(first, "/health").await.is_err(), "the replaced server no longer listens");
    let models = get(second, "/v1/models").await.unwrap();
    assert!(
        models.starts_with("HTTP/1.1 200") && !models.contains("tiny-coder-fim"),
        "nothing loaded, nothing on demand: {models}"
    );

    runtime.stop_server().await;
    assert_eq!(runtime.server_addr().await, None);
    assert!(get(second, "/health").await.is_err(), "the stopped server no longer listens");
}

/// A runtime over a fresh folder with `model` loaded as the user's.
async fn with_user_model(dir: &std::path::Path, model: &str) -> std::sync::Arc<Runtime> {
    let runtime = Runtime::open(AppFolders::under(dir), &Settings::default()).await.unwrap();
    let path = fixture(model);
    let params = LoadParams { context_length: Some(512), ..LoadParams::default() };
    let spec = sirocco_host::ModelSpec { id: runtime.model_id(&path).await, path, params };
    let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    runtime.host.load(spec, sirocco_host::LoadedBy::User, |_| {}, cancel).await.expect("loads");
    runtime
}

#[tokio::test]
async fn a_turn_on_the_users_model_is_kept_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = with_user_model(dir.path(), "SmolLM2-135M-Instruct.Q4_1.gguf").await;
    let request = sirocco_chat::TurnRequest {
        turn: sirocco_chat::Turn::Send { parent_id: None, text: "Say hello".into(), attachments: Vec::new() },
        sampling: sirocco_engine::SamplingParams { max_tokens: 6, temperature: 0.0, ..Default::default() },
        ..Default::default()
    };
    let mut events = Vec::new();
    let answer = runtime
        .run_turn(request, None, "chat", |e| {
            events.push(e);
            true
        })
        .await
        .expect("answers");

    let conversations = runtime.store.conversations().await.unwrap();
    assert_eq!(conversations.len(), 1);
    let branch: Vec<_> =
        runtime.store.branch_view(conversations[0].id).await.unwrap().into_iter().map(|m| m.message).collect();
    assert_eq!(branch.iter().map(|m| m.content.is_empty()).collect::<Vec<_>>(), [false, false], "{branch:?}");
    assert_eq!((branch[0].content.as_str(), branch[1].id), ("Say hello", answer));
    let streamed: String = events
        .iter()
        .filter_map(|e| match e {
            sirocco_chat::TurnEvent::Text { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(streamed, branch[1].content, "what streamed is what was kept");
}

#[tokio::test]
async fn stop_ends_the_answer_under_its_stream_and_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = with_user_model(dir.path(), "SmolLM2-135M-Instruct.Q4_1.gguf").await;
    let messages = vec![sirocco_engine::ChatMessage::new(sirocco_engine::Role::User, "Count from one to fifty.")];
    let sampling = sirocco_engine::SamplingParams { max_tokens: 64, temperature: 0.0, ..Default::default() };

    // At the first piece of text of an answer under `stream`, the answer under `stop` is stopped;
    // how the answer ended.
    let answer = |stream: &'static str, stop: &'static str| {
        let (runtime, messages, sampling) = (&runtime, messages.clone(), sampling.clone());
        async move {
            let mut last = None;
            runtime
                .answer_once(messages, sampling, None, stream, |e| {
                    if matches!(e, sirocco_engine::GenerationEvent::Text { .. }) {
                        runtime.stop(Some(stop));
                    }
                    last = Some(e);
                    true
                })
                .await
                .unwrap();
            match last {
                Some(sirocco_engine::GenerationEvent::Done { stats }) => stats,
                other => panic!("no end: {other:?}"),
            }
        }
    };
    // Another stream's stop leaves this answer running to its length; its own stop ends it.
    assert_eq!(answer("arena-0", "arena-1").await.finish_reason, sirocco_engine::FinishReason::Length);
    let stats = answer("arena-1", "arena-1").await;
    assert_eq!(stats.finish_reason, sirocco_engine::FinishReason::Cancelled);
    assert!(stats.generated_tokens < 64, "{stats:?}");
}

#[tokio::test]
async fn the_server_also_answers_on_ollamas_port_when_it_is_free() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = Runtime::open(AppFolders::under(dir.path()), &Settings::default()).await.unwrap();
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let serving = Serving { addr: Some(loopback), ollama_port: Some(free), ..Serving::default() };
    let main = runtime.start_server(serving.clone()).await.unwrap();
    let second = runtime.ollama_addr().await.expect("serves on the second port");
    assert_eq!(second.port(), free);
    for addr in [main, second] {
        let tags = get(addr, "/api/tags").await.unwrap();
        assert!(tags.starts_with("HTTP/1.1 200") && tags.contains("\"models\""), "{addr}: {tags}");
    }

    // Taken (Ollama itself runs): the server starts all the same, on its own port only.
    runtime.stop_server().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let serving = Serving { ollama_port: Some(taken.local_addr().unwrap().port()), ..serving };
    let main = runtime.start_server(serving).await.expect("starts without the second port");
    assert_eq!(runtime.ollama_addr().await, None);
    assert!(get(main, "/health").await.unwrap().starts_with("HTTP/1.1 200"));
    runtime.stop_server().await;
    assert!(get(second, "/health").await.is_err(), "stopping stops both");
}
