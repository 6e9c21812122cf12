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

mod catalog;
mod error;
mod on_demand;
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
    /// 127.0.0.1 unless the user opts in to the LAN (which requires `api_key`).
    pub addr: SocketAddr,
    /// When set, every request but `/health` needs `Authorization: Bearer <key>`.
    pub api_key: Option<String>,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Called after every request (method, path, status, time).
    pub on_request: Option<RequestLog>,
    /// Web pages (origins like `http://localhost:3000`) allowed to call the server from a
    /// browser. Empty: none (browsers block cross-origin reads); other tools are unaffected.
    pub cors_origins: Vec<String>,
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
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 1234)),
            api_key: None,
            // Images come as base64 inside the JSON (OpenAI takes up to 20 MB an image).
            max_body_bytes: 32 * 1024 * 1024,
            on_request: None,
            cors_origins: Vec::new(),
            max_pending: 64,
            on_demand: None,
            store: None,
            fetch_images: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("could not listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("serving on {0} (beyond this machine) requires an API key")]
    LanWithoutKey(SocketAddr),
}

/// What every handler sees.
pub(crate) struct ServerState {
    /// The one owner of loaded models (the app's, or `sirocco serve`'s).
    pub host: ModelHost,
    pub on_demand: Option<OnDemand>,
    /// Kept Responses API answers.
    pub store: Option<sirocco_store::Store>,
    pub api_key: Option<String>,
    pub started: u64,
    /// One permit per generation request in flight.
    pub pending: Arc<tokio::sync::Semaphore>,
    pub on_request: Option<RequestLog>,
    /// Fetches web images for requests, when the user allowed it.
    pub image_fetcher: Option<reqwest::Client>,
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
    if !config.addr.ip().is_loopback() && config.api_key.as_deref().is_none_or(str::is_empty) {
        return Err(ServerError::LanWithoutKey(config.addr));
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
        api_key: config.api_key.filter(|k| !k.is_empty()),
        started: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        pending: Arc::new(tokio::sync::Semaphore::new(config.max_pending.max(1))),
        image_fetcher: config.fetch_images.then(routes::remote_images::client),
    });
    let idle_unloader = on_demand::spawn_idle_unloader(state.clone());
    let mut app = router(state.clone(), config.max_body_bytes);
    if !config.cors_origins.is_empty() {
        use axum::http::{HeaderValue, Method};
        let origins: Vec<HeaderValue> =
            config.cors_origins.iter().filter_map(|o| HeaderValue::from_str(o.trim()).ok()).collect();
        app = app.layer(
            tower_http::cors::CorsLayer::new()
                .allow_origin(origins)
                .allow_methods([Method::GET, Method::POST, Method::DELETE])
                // The SDKs send headers of their own (anthropic-version, anthropic-beta,
                // x-stainless-*, openai-beta…); the origin is what is checked.
                .allow_headers(tower_http::cors::Any),
        );
    }
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = rx.await;
        });
        if let Err(e) = served.await {
            tracing::error!("the server stopped: {e}");
        }
    });
    tracing::info!(%addr, "OpenAI-compatible server listening");
    Ok(RunningServer { addr, shutdown: Some(tx), task, idle_unloader })
}

fn router(state: Arc<ServerState>, max_body: usize) -> Router {
    Router::new()
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
        .layer(axum::middleware::from_fn_with_state(state.clone(), require_key))
        .route("/health", get(routes::health::handle))
        .route("/openapi.json", get(routes::openapi::handle))
        .fallback(|req: Request| async move {
            let path = req.uri().path();
            if routes::messages::is_anthropic(path) {
                return AnthropicError(ApiError::not_found(path)).into_response();
            }
            ApiError::not_found(path).into_response()
        })
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(state.clone(), log_request))
        .with_state(state)
}

/// `Authorization: Bearer <key>` (OpenAI's clients) or `x-api-key: <key>` (Anthropic's) when a
/// key is configured.
async fn require_key(State(state): Shared, request: Request, next: Next) -> Response {
    if let Some(key) = &state.api_key {
        let headers = request.headers();
        let header = |name| headers.get(name).and_then(|v: &axum::http::HeaderValue| v.to_str().ok());
        let bearer = header(axum::http::header::AUTHORIZATION.as_str()).and_then(|v| v.strip_prefix("Bearer "));
        let x_api_key = header("x-api-key");
        if bearer != Some(key.as_str()) && x_api_key != Some(key.as_str()) {
            if routes::messages::is_anthropic(request.uri().path()) {
                return AnthropicError(ApiError::unauthorized()).into_response();
            }
            return ApiError::unauthorized().into_response();
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
