//! `Runtime::open` on a real data folder (SQLite file, settings in effect, the library) and the
//! local server's start, replacement and stop over real HTTP on loopback, serving a real model
//! file from the library.

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
