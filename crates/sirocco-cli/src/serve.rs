//! `sirocco serve`: the app's server without a window, until Ctrl+C (or SIGTERM). With
//! `--model` that model is loaded first (as the user's: never unloaded for others); any library
//! model a request names is loaded on demand with its own saved settings (the app's default
//! preset for it) beside the others, up to `--max-models` (default: the app's "Keep up to" setting;
//! the least recently used idle one makes room), and unloaded after `--idle-unload` seconds
//! without requests. It opens the app's runtime (`sirocco_runtime::Runtime`: the same store,
//! library, settings and server start as the window's). Every load and unload is written to stderr.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use sirocco_engine::LoadParams;
use sirocco_host::{HostEvent, LoadedBy, ModelSpec, UnloadReason};
use sirocco_runtime::Serving;

pub struct ServeArgs {
    pub model: Option<PathBuf>,
    pub addr: SocketAddr,
    pub api_key: Option<String>,
    /// Fetch images requests name by a web address.
    pub fetch_images: bool,
    /// Host names clients may use beyond the loopback ones (and this machine's, on the network).
    pub trusted_hosts: Vec<String>,
    /// Web pages allowed to call the server from a browser, beyond this machine's.
    pub cors_origins: Vec<String>,
    /// Also serve on this port (Ollama's clients look on 11434), when it is free.
    pub ollama_port: Option<u16>,
    pub context: Option<u32>,
    pub parallel: u32,
    /// 0: never.
    pub idle_unload_secs: u64,
    pub max_models: Option<usize>,
    pub dirs: Vec<PathBuf>,
    /// `sirocco worker`s whose devices join this machine's for every model (checked first; the
    /// models then run in engine processes of their own).
    pub workers: Vec<String>,
    /// Layers offloaded (to local GPUs and workers), every model alike; `None`: the planner's
    /// fit across this machine and the workers for `--model` (none for the others).
    pub gpu_layers: Option<u32>,
    /// Mixture-of-experts tensors stay in RAM here (every model alike).
    pub cpu_moe: bool,
    /// Drafted tokens for every model (n-gram kinds), and for `model` (with its draft model).
    pub drafting: sirocco_engine::speculative::Drafting,
    pub model_drafting: sirocco_engine::speculative::Drafting,
}

pub async fn run(args: ServeArgs) -> Result<(), String> {
    if !args.addr.ip().is_loopback() {
        check_network_key(args.addr, args.api_key.as_deref())?;
    }
    let worker_memory = crate::worker::probe_all(&args.workers)?;
    let gpu_layers = match (args.gpu_layers, &args.model) {
        (Some(n), _) => n,
        (None, Some(model)) if !args.workers.is_empty() => {
            crate::worker::planned_gpu_layers(model, &worker_memory, args.context)?
        }
        (None, _) => 0,
    };
    // The app's runtime (its store keeps Responses API answers, so a follow-up can name them;
    // created when the app never ran), `--max-models` over the app's setting.
    let mut settings = sirocco_runtime::Settings::of_app();
    settings.model_memory.max_models = args.max_models.or(settings.model_memory.max_models);
    let runtime =
        sirocco_runtime::Runtime::open_with_folders(sirocco_folders::AppFolders::resolve(), &settings, args.dirs)
            .await
            .map_err(|e| e.to_string())?;
    let host = runtime.host.clone();
    tokio::spawn(report(host.events()));
    let base = LoadParams {
        context_length: args.context,
        parallel: args.parallel,
        gpu_layers,
        workers: args.workers.clone(),
        experts_on_cpu: args.cpu_moe,
        drafting: args.drafting.clone(),
        ..LoadParams::default()
    };
    let mut name = "the library".to_owned();
    if let Some(model) = &args.model {
        eprintln!("loading {}…", model.display());
        let id = runtime.model_id(model).await;
        let params = LoadParams { drafting: args.model_drafting.clone(), ..base.clone() };
        let params = crate::paths::with_projector_beside(model, params);
        let spec = ModelSpec { id: id.clone(), path: model.clone(), params };
        host.load(spec, LoadedBy::User, |_| {}, Arc::new(AtomicBool::new(false))).await.map_err(|e| e.to_string())?;
        name = id;
    }
    let serving = Serving {
        addr: Some(args.addr),
        api_key: args.api_key,
        on_demand: Some(base),
        idle_unload: (args.idle_unload_secs > 0).then(|| Duration::from_secs(args.idle_unload_secs)),
        fetch_images: args.fetch_images,
        trusted_hosts: args.trusted_hosts,
        cors_origins: args.cors_origins,
        on_request: None,
        ollama_port: args.ollama_port,
    };
    let addr = match runtime.start_server(serving).await {
        Ok(addr) => addr,
        Err(sirocco_server::ServerError::Bind { addr, source }) if source.kind() == std::io::ErrorKind::AddrInUse => {
            return Err(port_taken(addr).await)
        }
        Err(e) => return Err(e.to_string()),
    };
    if let Some(port) = args.ollama_port {
        match runtime.ollama_addr().await {
            Some(also) => eprintln!("also on http://{also} for Ollama's clients"),
            None => eprintln!("not on port {port} for Ollama's clients: it is taken (Ollama itself?)"),
        }
    }
    // The line scripts wait for: the address clients use.
    println!("serving {name} on http://{addr}/v1");
    let mut term =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(|e| e.to_string())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    eprintln!("stopping…");
    runtime.stop_server().await;
    host.unload_all().await;
    Ok(())
}

/// Serving on the network needs a strong key: before anything is loaded, a missing or weak one
/// is refused with a generated key to use instead.
fn check_network_key(addr: SocketAddr, key: Option<&str>) -> Result<(), String> {
    let why = match key.filter(|k| !k.is_empty()) {
        None => format!("serving on {addr} (beyond this machine) requires an API key"),
        Some(key) => match sirocco_server::weak_key(key) {
            None => return Ok(()),
            Some(why) => why,
        },
    };
    Err(format!(
        "{why}. Put one in a file and pass --api-key-file (or set SIROCCO_API_KEY); a strong one: {}",
        sirocco_server::generate_api_key()
    ))
}

/// Every load and unload, one line each.
async fn report(mut events: tokio::sync::broadcast::Receiver<HostEvent>) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match events.recv().await {
            Ok(HostEvent::Loaded { id, .. }) => eprintln!("loaded {id}"),
            Ok(HostEvent::Unloaded { id, reason }) => match reason {
                UnloadReason::Evicted { for_model } => eprintln!("unloaded {id} to make room for {for_model}"),
                UnloadReason::Idle => eprintln!("unloaded {id} (idle)"),
                UnloadReason::Asked => eprintln!("unloaded {id}"),
                UnloadReason::Replaced => eprintln!("reloading {id} with other settings"),
                UnloadReason::Shutdown => {}
                UnloadReason::Stopped { message } => eprintln!("unloaded {id}: {message}"),
            },
            Ok(HostEvent::LoadFailed { id, message }) => eprintln!("could not load {id}: {message}"),
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
    }
}

/// Why `addr` cannot be served: Sirocco serves it already (the app's server, or another `sirocco
/// serve`: its `/health` says so), or another program holds it.
async fn port_taken(addr: SocketAddr) -> String {
    let probe = SocketAddr::new(
        if addr.ip().is_unspecified() { std::net::Ipv4Addr::LOCALHOST.into() } else { addr.ip() },
        addr.port(),
    );
    if sirocco_runtime::sirocco_serves(addr).await {
        format!(
            "Sirocco is already serving on {addr} (the app's local server, or another `sirocco serve`): \
             point your tools at http://{probe}/v1, or pass another --port"
        )
    } else {
        format!("{addr} is taken by another program: pass another --port")
    }
}
