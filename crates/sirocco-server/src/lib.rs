//! `sirocco-server`: an OpenAI-compatible HTTP API over the Sirocco engine (axum).
//!
//! One file per endpoint under `routes/`, OpenAI's wire types in `wire.rs`, its error format in
//! `error.rs`. The server shares the app's (or `sirocco serve`'s) [`ModelHost`]: every model
//! loaded there answers under its id, and with loading on demand so does every library model
//! (llama.cpp's router endpoints `GET /models`, `POST /models/load`, `/models/unload` too). Concurrent
//! requests decode together in the engine's sequence slots (continuous batching), more wait in
//! its queue, and beyond `max_pending` the server answers 503 at once. A client that disconnects
//! frees its slot within one step: the answer's receiver is dropped, and the engine drops a
//! request nobody listens to.

mod boundary;
mod catalog;
mod error;
mod on_demand;
pub mod pull;
mod routes;
mod wire;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use sirocco_host::ModelHost;
use tokio::sync::oneshot;

pub use boundary::{generate_api_key, weak_key, Connection, MIN_KEY_CHARS};
pub use catalog::library_catalog;
pub use error::{AnthropicError, ApiError};
pub use on_demand::{Catalog, CatalogModel, Lease, OnDemand};

/// The model a request runs on.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ServedModel {
    /// Its id in `/v1/models` (as the library names it).
    pub id: String,
    pub context_length: u32,
    /// It was loaded with a vision projector: it takes images.
    pub vision: bool,
}

/// One request, for the app's live log.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct RequestLogEntry {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub millis: u64,
}

pub type RequestLog = Arc<dyn Fn(RequestLogEntry) + Send + Sync>;

/// How the server listens.
#[derive(Clone)]
pub struct ServerConfig {
    /// 127.0.0.1 unless the user opts in to the LAN (which requires a strong `api_key`).
    pub addr: SocketAddr,
    /// When set, every request but `/health` needs `Authorization: Bearer <key>`.
    pub api_key: Option<String>,
    /// Host names requests may name the server by, beyond 127.0.0.1, localhost and [::1] (and,
    /// on the network, this machine's addresses and names): a reverse proxy's, an alias in
    /// /etc/hosts. `*.example.com` allows its subdomains. Any other `Host` is refused (403).
    pub trusted_hosts: Vec<String>,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Called after every request (method, path, status, time).
    pub on_request: Option<RequestLog>,
    /// Web pages (origins like `https://app.example.com`) allowed to call the server from a
    /// browser, beyond pages on this machine (loopback origins). Any other page's requests are
    /// refused (403); tools that are not browsers send no origin and are unaffected.
    pub cors_origins: Vec<String>,
    /// A connection that has not sent a whole request head within this time is closed (idle
    /// keep-alive connections too).
    pub header_read_timeout: std::time::Duration,
    /// Open connections from peers beyond this machine at most (32 a peer); more are closed at
    /// once. This machine's own clients are never turned away.
    pub max_connections: usize,
    /// Generation requests in flight (decoding or queued in the engine); more get a 503 with
    /// `Retry-After` instead of waiting without bound.
    pub max_pending: usize,
    /// Load the library model a request names (None: only the loaded model answers).
    pub on_demand: Option<OnDemand>,
    /// Where Responses API answers are kept for `previous_response_id` (None: not kept).
    pub store: Option<sirocco_store::Store>,
    /// Fetch images that requests name by a web address (the user's choice; off: such a
    /// request is refused, and the server fetches nothing on a client's behalf).
    pub fetch_images: bool,
    /// Download and delete library models for clients (Ollama's `/api/pull` and `/api/delete`;
    /// None: those are refused).
    pub hub: Option<pull::HubAccess>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 1234)),
            api_key: None,
            trusted_hosts: Vec::new(),
            header_read_timeout: std::time::Duration::from_secs(10),
            max_connections: 256,
            // Images come as base64 inside the JSON (OpenAI takes up to 20 MB an image).
            max_body_bytes: 32 * 1024 * 1024,
            on_request: None,
            cors_origins: Vec::new(),
            max_pending: 64,
            on_demand: None,
            store: None,
            fetch_images: false,
            hub: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("could not listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("serving on {0} (beyond this machine) requires an API key")]
    LanWithoutKey(SocketAddr),
    #[error("{0}")]
    WeakKey(String),
    #[error("the server stopped as it started: {0}")]
    Stopped(String),
}

/// What every handler sees.
pub(crate) struct ServerState {
    /// The one owner of loaded models (the app's, or `sirocco serve`'s).
    pub host: ModelHost,
    pub on_demand: Option<OnDemand>,
    /// Kept Responses API answers.
    pub store: Option<sirocco_store::Store>,
    /// Hosts, origins and the key (see `boundary`).
    pub boundary: boundary::Boundary,
    pub started: u64,
    /// One permit per generation request in flight.
    pub pending: Arc<tokio::sync::Semaphore>,
    pub on_request: Option<RequestLog>,
    /// The library's last listing and when it was made (see `ServerState::catalog`).
    pub catalog_memo: tokio::sync::Mutex<Option<(std::time::Instant, Arc<Vec<CatalogModel>>)>>,
    /// Fetches web images for requests, when the user allowed it.
    pub image_fetcher: Option<sirocco_fetch::Fetcher>,
    /// Downloads and deletions for clients, when allowed.
    pub hub: Option<pull::HubAccess>,
}

impl ServerState {
    /// A place among the requests in flight, or a 503 when the queue is full.
    pub fn admit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        self.pending.clone().try_acquire_owned().map_err(|_| ApiError::busy())
    }
}

pub(crate) type Shared = State<Arc<ServerState>>;

/// A running server: its address, and a way to stop it.
pub struct RunningServer {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    idle_unloader: Option<tokio::task::JoinHandle<()>>,
}

impl RunningServer {
    /// Stops accepting connections, lets open requests finish, and returns when the port is closed.
    pub async fn stop(mut self) {
        if let Some(unloader) = self.idle_unloader.take() {
            unloader.abort();
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Starts serving `host`'s models per `config`.
pub async fn start(config: ServerConfig, host: ModelHost) -> Result<RunningServer, ServerError> {
    let api_key = config.api_key.clone().filter(|k| !k.is_empty());
    let lan = !config.addr.ip().is_loopback();
    if lan {
        let Some(key) = &api_key else { return Err(ServerError::LanWithoutKey(config.addr)) };
        if let Some(why) = weak_key(key) {
            return Err(ServerError::WeakKey(why));
        }
    }
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| ServerError::Bind { addr: config.addr, source })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind { addr: config.addr, source })?;
    let state = Arc::new(ServerState {
        host,
        on_demand: config.on_demand.clone(),
        store: config.store.clone(),
        on_request: config.on_request.clone(),
        boundary: boundary::Boundary::new(lan, &config.trusted_hosts, &config.cors_origins, api_key),
        started: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        pending: Arc::new(tokio::sync::Semaphore::new(config.max_pending.max(1))),
        image_fetcher: config.fetch_images.then(routes::remote_images::fetcher),
        catalog_memo: tokio::sync::Mutex::new(None),
        hub: config.hub.clone(),
    });
    let idle_unloader = on_demand::spawn_idle_unloader(state.clone());
    let app = router(state.clone(), &config);
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(accept_loop(listener, app, config.header_read_timeout, config.max_connections, rx));
    tracing::info!(%addr, "OpenAI-compatible server listening");
    Ok(RunningServer { addr, shutdown: Some(tx), task, idle_unloader })
}

/// Most connections one peer beyond this machine may hold open.
const CONNECTIONS_PER_PEER: usize = 32;

/// Accepts connections until `shutdown`, each served by hyper (HTTP/1.1) with a header-read
/// timeout and its [`Connection`] in every request's extensions. Peers beyond this machine hold
/// at most `max_connections` among them and [`CONNECTIONS_PER_PEER`] each (more are closed at
/// once), so no one on the network can take every place; this machine's own clients are never
/// turned away. On shutdown, open requests finish first.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    app: Router,
    header_read_timeout: std::time::Duration,
    max_connections: usize,
    mut shutdown: oneshot::Receiver<()>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let open = Arc::new(tokio::sync::Semaphore::new(max_connections.max(1)));
    let per_peer: Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>> = Arc::default();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(header_read_timeout);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little instead of spinning.
                    tracing::warn!("could not accept a connection: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let ip = peer.ip().to_canonical();
        let place = if ip.is_loopback() {
            None
        } else {
            let mut counts = per_peer.lock().unwrap_or_else(|e| e.into_inner());
            if counts.get(&ip).is_some_and(|n| *n >= CONNECTIONS_PER_PEER) {
                continue;
            }
            let Ok(place) = open.clone().try_acquire_owned() else { continue };
            *counts.entry(ip).or_default() += 1;
            Some(place)
        };
        let local = stream.local_addr().unwrap_or(peer);
        let connection = Connection { peer, local };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(connection);
            let mut app = app.clone();
            async move { tower::Service::call(&mut app, request.map(axum::body::Body::new)).await }
        });
        let served = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let served = graceful.watch(served);
        let per_peer = per_peer.clone();
        tokio::spawn(async move {
            let _ = served.await;
            if let Some(place) = place {
                drop(place);
                let mut counts = per_peer.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(count) = counts.get_mut(&ip) {
                    *count -= 1;
                    if *count == 0 {
                        counts.remove(&ip);
                    }
                }
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

fn router(state: Arc<ServerState>, config: &ServerConfig) -> Router {
    let mut app = Router::new()
        .route("/v1/models", get(routes::models::list))
        .route("/v1/models/{id}", get(routes::models::one))
        .route("/v1/chat/completions", post(routes::chat_completions::handle))
        .route("/v1/completions", post(routes::completions::handle))
        .route("/v1/embeddings", post(routes::embeddings::handle))
        .route("/v1/responses", post(routes::responses::handle))
        .route("/v1/responses/{id}", get(routes::responses::get).delete(routes::responses::delete))
        .route("/v1/messages", post(routes::messages::handle))
        .route("/v1/messages/count_tokens", post(routes::messages::count_tokens))
        .route("/models", get(routes::router::list))
        .route("/models/load", post(routes::router::load))
        .route("/models/unload", post(routes::router::unload))
        .route("/tokenize", post(routes::tokens::tokenize))
        .route("/detokenize", post(routes::tokens::detokenize))
        .route("/apply-template", post(routes::tokens::apply_template))
        // Ollama's API (routes/ollama/), for its clients.
        .route("/api/tags", get(routes::ollama::models::tags))
        .route("/api/show", post(routes::ollama::models::show))
        .route("/api/ps", get(routes::ollama::models::ps))
        .route("/api/chat", post(routes::ollama::chat::handle))
        .route("/api/generate", post(routes::ollama::generate::handle))
        .route("/api/embed", post(routes::ollama::embed::embed))
        .route("/api/embeddings", post(routes::ollama::embed::embeddings))
        .route("/api/pull", post(routes::ollama::pull::pull))
        .route("/api/copy", post(routes::ollama::pull::copy))
        .route("/api/delete", axum::routing::delete(routes::ollama::pull::delete))
        .layer(axum::middleware::from_fn_with_state(state.clone(), require_key))
        .route("/health", get(routes::health::handle))
        // Ollama's clients check these before anything else (as /health, no key needed).
        .route("/", get(routes::ollama::models::root))
        .route("/api/version", get(routes::ollama::models::version))
        .route("/openapi.json", get(routes::openapi::handle))
        .fallback(|req: Request| async move {
            let path = req.uri().path();
            shaped_for(path, ApiError::not_found(path))
        })
        .layer(DefaultBodyLimit::max(config.max_body_bytes));
    // Browsers read answers only from pages the boundary lets call (pages on this machine and
    // the listed ones): one rule for both.
    let cors_state = state.clone();
    app = app.layer(
        tower_http::cors::CorsLayer::new()
            .allow_origin(tower_http::cors::AllowOrigin::predicate(move |origin, _| {
                origin.to_str().is_ok_and(|o| cors_state.boundary.origin_allowed(o))
            }))
            .allow_methods([axum::http::Method::GET, axum::http::Method::POST, axum::http::Method::DELETE])
            // The SDKs send headers of their own (anthropic-version, anthropic-beta,
            // x-stainless-*, openai-beta…); the origin is what is checked.
            .allow_headers(tower_http::cors::Any),
    );
    // Outermost but the log: nothing below runs for a request the boundary refuses.
    app.layer(axum::middleware::from_fn_with_state(state.clone(), check_boundary))
        .layer(axum::middleware::from_fn_with_state(state.clone(), log_request))
        .with_state(state)
}

/// `error` in the shape of the API `path` belongs to: Anthropic's, Ollama's or OpenAI's.
fn shaped_for(path: &str, error: ApiError) -> Response {
    if routes::messages::is_anthropic(path) {
        AnthropicError(error).into_response()
    } else if path.starts_with("/api/") {
        routes::ollama::OllamaError(error).into_response()
    } else {
        error.into_response()
    }
}

/// Refuses a request that names the server by a host it does not serve, or comes from a web
/// page the user did not allow (see `boundary`).
async fn check_boundary(State(state): Shared, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let text =
        |name| headers.get(name).map(|v: &axum::http::HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let host = text(axum::http::header::HOST.as_str()).or_else(|| request.uri().authority().map(|a| a.to_string()));
    let origin = text(axum::http::header::ORIGIN.as_str());
    let connection = request.extensions().get::<Connection>().copied();
    match state.boundary.check(host.as_deref(), origin.as_deref(), connection) {
        Ok(()) => next.run(request).await,
        Err(refusal) => shaped_for(request.uri().path(), ApiError::forbidden(refusal)),
    }
}

/// `Authorization: Bearer <key>` (OpenAI's clients) or `x-api-key: <key>` (Anthropic's) when a
/// key is configured; a peer that keeps failing is answered 429 for a while (see `boundary`).
async fn require_key(State(state): Shared, request: Request, next: Next) -> Response {
    if state.boundary.has_key() {
        let headers = request.headers();
        let header = |name| headers.get(name).and_then(|v: &axum::http::HeaderValue| v.to_str().ok());
        let bearer = header(axum::http::header::AUTHORIZATION.as_str()).and_then(|v| v.strip_prefix("Bearer "));
        let offered: Vec<&str> = [bearer, header("x-api-key")].into_iter().flatten().collect();
        let peer = request.extensions().get::<Connection>().map(|c| c.peer.ip());
        let refused = match state.boundary.check_key(&offered, peer) {
            Ok(true) => None,
            Ok(false) => Some(ApiError::unauthorized()),
            Err(retry_after) => Some(ApiError::too_many_failures(retry_after)),
        };
        if let Some(error) = refused {
            return shaped_for(request.uri().path(), error);
        }
    }
    next.run(request).await
}

/// Reports each request to the app's live log.
async fn log_request(State(state): Shared, request: Request, next: Next) -> Response {
    let Some(log) = state.on_request.clone() else { return next.run(request).await };
    let (method, path) = (request.method().to_string(), request.uri().path().to_string());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    log(RequestLogEntry {
        method,
        path,
        status: response.status().as_u16(),
        millis: started.elapsed().as_millis() as u64,
    });
    response
}
