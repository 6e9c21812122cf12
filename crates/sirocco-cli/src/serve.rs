//! `sirocco serve`: load a model and serve it until Ctrl+C (or SIGTERM).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use sirocco_engine::{Engine, LoadParams};
use sirocco_server::ServerConfig;

pub async fn run(model: &Path, addr: SocketAddr, api_key: Option<String>, context: Option<u32>, parallel: u32) -> Result<(), String> {
    let engine = Engine::start();
    let params = LoadParams { context_length: context, parallel, ..LoadParams::default() };
    eprintln!("loading {}…", model.display());
    let loaded = engine
        .load(model, params, |_| {}, Arc::new(AtomicBool::new(false)))
        .await
        .map_err(|e| e.to_string())?;
    let id = model.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "model".into());
    let config = ServerConfig { addr, api_key, ..ServerConfig::default() };
    let served = sirocco_server::ServedModel { id: id.clone(), context_length: loaded.context_length };
    let server = sirocco_server::start(config, engine, Some(served)).await.map_err(|e| e.to_string())?;
    // The line scripts wait for: the address clients use.
    println!("serving {id} on http://{}/v1", server.addr);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(|e| e.to_string())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    eprintln!("stopping…");
    server.stop().await;
    Ok(())
}
