//! `sirocco serve`: the app's server without a window, until Ctrl+C (or SIGTERM). With
//! `--model` that model is loaded first; any library model a request names is loaded on demand
//! with its own saved settings (the app's default preset for it), and a model loaded that way is
//! unloaded after `--idle-unload` seconds without requests.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use sirocco_engine::{Engine, LoadParams};
use sirocco_hub::{Hub, HubConfig};
use sirocco_server::{OnDemand, ServerConfig};

pub struct ServeArgs {
    pub model: Option<PathBuf>,
    pub addr: SocketAddr,
    pub api_key: Option<String>,
    pub context: Option<u32>,
    pub parallel: u32,
    /// 0: never.
    pub idle_unload_secs: u64,
    pub dirs: Vec<PathBuf>,
}

pub async fn run(args: ServeArgs) -> Result<(), String> {
    let engine = Engine::start();
    let base = LoadParams { context_length: args.context, parallel: args.parallel, ..LoadParams::default() };
    let mut served = None;
    if let Some(model) = &args.model {
        eprintln!("loading {}…", model.display());
        let loaded = engine
            .load(model, base.clone(), |_| {}, Arc::new(AtomicBool::new(false)))
            .await
            .map_err(|e| e.to_string())?;
        let hub = Hub::new(HubConfig::default()).map_err(|e| e.to_string())?;
        let roots = crate::paths::library_roots(hub.cache_dir().to_path_buf(), args.dirs.clone());
        let id = sirocco_hub::library::id_of(&roots, model);
        served = Some(sirocco_server::ServedModel { id, context_length: loaded.context_length });
    }
    let on_demand = OnDemand {
        catalog: catalog(args.dirs, base).await?,
        idle_unload: (args.idle_unload_secs > 0).then(|| Duration::from_secs(args.idle_unload_secs)),
        on_change: Some(Arc::new(|model| match model {
            Some(m) => eprintln!("loaded {} on demand", m.served.id),
            None => eprintln!("unloaded the idle model"),
        })),
    };
    let config = ServerConfig { addr: args.addr, api_key: args.api_key, on_demand: Some(on_demand), ..ServerConfig::default() };
    let name = served.as_ref().map_or_else(|| "the library".to_owned(), |m| m.id.clone());
    let server = sirocco_server::start(config, engine, served).await.map_err(|e| e.to_string())?;
    // The line scripts wait for: the address clients use.
    println!("serving {name} on http://{}/v1", server.addr);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(|e| e.to_string())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    eprintln!("stopping…");
    server.stop().await;
    Ok(())
}

/// The library as the app sees it, each model with its saved settings.
async fn catalog(dirs: Vec<PathBuf>, base: LoadParams) -> Result<sirocco_server::Catalog, String> {
    let hub = Hub::new(HubConfig::default()).map_err(|e| e.to_string())?;
    let roots = crate::paths::library_roots(hub.cache_dir().to_path_buf(), dirs);
    let store = crate::paths::app_store().await?;
    Ok(Arc::new(move || {
        let (roots, store, base) = (roots.clone(), store.clone(), base.clone());
        Box::pin(async move { sirocco_server::library_catalog(roots, store.as_ref(), &base).await })
    }))
}
