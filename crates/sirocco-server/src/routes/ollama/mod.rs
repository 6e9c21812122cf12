//! Ollama's native API (`/api/*`), so its clients — the `ollama` libraries, Open WebUI's Ollama
//! connection, editor plugins — work unmodified against Sirocco's library. It answers from the
//! same host, library and boundary (Host, Origin, key) as the OpenAI routes; one file per
//! endpoint, and here what they share: model names, `options`, errors in Ollama's shape
//! (`{"error": "…"}`), NDJSON streams and the figures of a finished answer.
//!
//! Names: a library model `Mistral-7B-Instruct-v0.3-Q4_K_M` is `Mistral-7B-Instruct-v0.3-Q4_K_M:latest`
//! to Ollama's clients; a request may name it with or without `:latest`, in any case, and a
//! download by its Hugging Face name (`hf.co/owner/repo:Q4_K_M`, see `pull.rs`).

pub mod chat;
pub mod embed;
pub mod generate;
pub mod models;
pub mod pull;

use std::time::{Duration, Instant, SystemTime};

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use sirocco_engine::{GenerationEvent, GenerationStats, ReasoningEffort, SamplingParams};

use crate::wire::ollama::{KeepAlive, Metrics, Options, Think};
use crate::wire::{SamplingFields, StopField};
use crate::{ApiError, Lease, ServedModel, ServerState};

/// Ollama's name for a library id.
pub fn name_of(id: &str) -> String {
    format!("{id}:latest")
}

/// An error as Ollama sends it: the status, and `{"error": "…"}`.
#[derive(Debug)]
pub struct OllamaError(pub ApiError);

impl From<ApiError> for OllamaError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl From<sirocco_engine::EngineError> for OllamaError {
    fn from(e: sirocco_engine::EngineError) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for OllamaError {
    fn into_response(self) -> Response {
        (self.0.status, Json(json!({ "error": self.0.message }))).into_response()
    }
}

impl OllamaError {
    fn not_found(name: &str) -> Self {
        Self(ApiError {
            status: StatusCode::NOT_FOUND,
            kind: "not_found_error",
            message: format!("model '{name}' not found"),
            param: Some("model"),
            code: Some("model_not_found"),
        })
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self(ApiError::invalid(message, None))
    }
}

/// A failure of the server's own (500), in Ollama's shape.
pub fn server_error(message: &str) -> OllamaError {
    let mut error = ApiError::unavailable(message.to_owned());
    error.status = StatusCode::INTERNAL_SERVER_ERROR;
    OllamaError(error)
}

/// A JSON body, whatever its `Content-Type` says (Ollama's own examples are `curl -d`, which
/// sends a form type), whose rejections are Ollama's errors (400, `{"error": "…"}`).
pub struct OllamaJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for OllamaJson<T> {
    type Rejection = OllamaError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|rejection| {
            let mut error = ApiError::invalid(rejection.body_text(), None);
            error.status = rejection.status();
            OllamaError(error)
        })?;
        if bytes.is_empty() {
            return Err(OllamaError::invalid("missing request body"));
        }
        serde_json::from_slice(&bytes).map(Self).map_err(|e| OllamaError::invalid(e.to_string()))
    }
}

/// The library id the Ollama name `name` means (`name`, `name:latest`, any case), among the
/// models loaded and, when the server loads on demand, the library's; a Hugging Face name
/// (`hf.co/owner/repo:QUANT`) means the file downloaded from there, an alias (`copy`) its model.
pub async fn resolve(state: &ServerState, name: &str) -> Result<String, OllamaError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(OllamaError::invalid("model is required"));
    }
    if let (Some((repo, quant)), Some(access)) = (pull::hub_name(name), &state.hub) {
        return downloaded(access, &repo, quant.as_deref()).await.ok_or_else(|| OllamaError::not_found(name));
    }
    let mut ids = state.host.loaded_ids();
    if let Some(on_demand) = &state.on_demand {
        ids.extend(state.catalog(on_demand, false).await.iter().map(|m| m.id.clone()));
    }
    let own = name.strip_suffix(":latest").unwrap_or(name);
    if let Some(id) = ids.iter().find(|id| id.eq_ignore_ascii_case(own)) {
        return Ok(id.clone());
    }
    // Not a model's own name: perhaps an alias (asked of the store only now).
    let target = state.alias_of(name).await.ok_or_else(|| OllamaError::not_found(name))?;
    ids.into_iter().find(|id| *id == target).ok_or_else(|| OllamaError::not_found(name))
}

/// The library id of the file downloaded from `repo` (of quantization `quant`, or any).
async fn downloaded(access: &crate::pull::HubAccess, repo: &str, quant: Option<&str>) -> Option<String> {
    let roots = (access.roots)();
    let models = tokio::task::spawn_blocking(move || sirocco_hub::library::scan(&roots)).await.ok()?;
    models
        .into_iter()
        .find(|m| {
            matches!(&m.source, sirocco_hub::library::ModelSource::HfCache { repo: r, .. } if r.eq_ignore_ascii_case(repo))
                && quant.is_none_or(|q| m.quant.as_deref().is_some_and(|mq| mq.eq_ignore_ascii_case(q)))
        })
        .map(|m| m.id())
}

/// The model `name` means, leased (loaded if it is not; with `options.num_ctx`, loaded with
/// that context: `ServerState::lease_with_context`), and how long that took. A name of no model
/// of ours gets the one model the user loaded, when there is exactly one (as on every API:
/// `ServerState::model_lease`).
pub async fn lease(
    state: &ServerState,
    name: &str,
    options: Option<&Options>,
) -> Result<(ServedModel, Lease, Duration), OllamaError> {
    let id = match resolve(state, name).await {
        Ok(id) => id,
        Err(missing) => state.only_user_model_id().ok_or(missing)?,
    };
    let start = Instant::now();
    let (served, lease) = match options.and_then(|o| o.num_ctx) {
        Some(n) if !(MIN_NUM_CTX..=MAX_NUM_CTX).contains(&n) => {
            return Err(OllamaError::invalid(format!("num_ctx must be between {MIN_NUM_CTX} and {MAX_NUM_CTX}")))
        }
        Some(n) => state.lease_with_context(&id, n).await?,
        None => state.lease(Some(&id), Default::default()).await?,
    };
    Ok((served, lease, start.elapsed()))
}

/// The `num_ctx` taken (Ollama's clients send 2048 and up; the memory planner then says
/// whether it fits).
const MIN_NUM_CTX: u32 = 64;
const MAX_NUM_CTX: u32 = 1 << 20;

/// `options` as sampling parameters, checked as the OpenAI routes check theirs.
pub fn sampling(options: Option<Options>, served: &ServedModel) -> Result<SamplingParams, OllamaError> {
    let o = options.unwrap_or_default();
    // -1: until the model stops (the context's end); -2: fill the context.
    let max_tokens = match o.num_predict {
        Some(n) if n > 0 => Some(u32::try_from(n).unwrap_or(u32::MAX)),
        _ => None,
    };
    let fields = SamplingFields {
        temperature: o.temperature,
        top_p: o.top_p,
        top_k: o.top_k,
        min_p: o.min_p,
        repeat_penalty: o.repeat_penalty,
        presence_penalty: o.presence_penalty,
        frequency_penalty: o.frequency_penalty,
        seed: o.seed.filter(|s| *s >= 0),
        max_tokens,
        max_completion_tokens: None,
        stop: o.stop.map(StopField::Many),
        n: None,
        ignore_eos: None,
    };
    Ok(super::request::sampling(fields, served)?)
}

/// `format`: `"json"` or a JSON schema the answer is held to.
pub fn format(format: Option<Value>, sampling: &mut SamplingParams) -> Result<(), OllamaError> {
    match format {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s.is_empty() => Ok(()),
        Some(Value::String(s)) if s == "json" => {
            sampling.json_schema = Some(json!({ "type": "object" }));
            Ok(())
        }
        Some(schema @ Value::Object(_)) => {
            sampling.json_schema = Some(schema);
            Ok(())
        }
        Some(other) => Err(OllamaError::invalid(format!(
            "invalid format: {other}; expected \"json\" or a valid JSON Schema object"
        ))),
    }
}

/// `think`: the effort asked for (`None`: the model's default).
pub fn effort(think: Option<Think>) -> Result<Option<ReasoningEffort>, OllamaError> {
    Ok(match think {
        None | Some(Think::On(true)) => None,
        Some(Think::On(false)) => Some(ReasoningEffort::None),
        Some(Think::Level(level)) => match level.as_str() {
            "low" => Some(ReasoningEffort::Low),
            "medium" => Some(ReasoningEffort::Medium),
            "high" | "max" => Some(ReasoningEffort::High),
            other => {
                return Err(OllamaError::invalid(format!(
                    "invalid think value: \"{other}\" (must be \"high\", \"medium\", \"low\", true, or false)"
                )))
            }
        },
    })
}

/// What `keep_alive` asks of a model the server loads (one the user loaded stays until they
/// eject it): a value Ollama would refuse is refused.
#[derive(Debug, PartialEq)]
pub enum KeepFor {
    /// Not given: the server's idle time-out decides (again, after an earlier request's).
    AsUsual,
    /// A duration, or forever (negative): it stays that long once idle.
    Keep(sirocco_host::KeepAlive),
    /// 0: unload now (with an empty request: instead of loading; else once answered).
    Unload,
}

pub fn keep_for(keep_alive: Option<KeepAlive>) -> Result<KeepFor, OllamaError> {
    let seconds = match keep_alive {
        None => return Ok(KeepFor::AsUsual),
        Some(KeepAlive::Seconds(s)) => s,
        Some(KeepAlive::Text(text)) => go_duration(&text).ok_or_else(|| {
            OllamaError::invalid(format!("time: invalid duration \"{text}\" (e.g. \"5m\", \"1h30m\", -1, 0)"))
        })?,
    };
    Ok(if seconds == 0.0 {
        KeepFor::Unload
    } else if seconds < 0.0 || !seconds.is_finite() {
        KeepFor::Keep(sirocco_host::KeepAlive::Forever)
    } else {
        KeepFor::Keep(sirocco_host::KeepAlive::For(Duration::from_secs_f64(seconds.min(1e9))))
    })
}

impl KeepFor {
    /// Applies it to model `id` once a request used it: kept as asked, the server's idle rule
    /// again when not asked (as Ollama, each request sets it anew), or (0) unloaded once the
    /// request's lease is gone — only for a model the server loaded.
    pub fn apply(self, state: &ServerState, id: &str) {
        match self {
            KeepFor::AsUsual => {
                state.host.keep_alive(id, sirocco_host::KeepAlive::Default);
            }
            KeepFor::Keep(keep) => {
                state.host.keep_alive(id, keep);
            }
            KeepFor::Unload => {
                state.host.keep_alive(id, sirocco_host::KeepAlive::For(Duration::ZERO));
            }
        }
    }
}

/// A Go duration (`300ms`, `5m`, `1h30m`, `-1s`; `0` alone) in seconds.
fn go_duration(text: &str) -> Option<f64> {
    let (sign, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, text.strip_prefix('+').unwrap_or(text)),
    };
    match rest {
        "0" => return Some(0.0),
        "" => return None,
        _ => {}
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).filter(|n| *n > 0)?;
        let value: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += value * scale;
        rest = &rest[unit..];
    }
    Some(sign * total)
}

/// Unloads the model `name` means when the server loaded it (what the user loaded in the app
/// stays until they eject it: a client's request never takes it away).
pub async fn unload(state: &ServerState, name: &str) -> Result<(), OllamaError> {
    let id = resolve(state, name).await?;
    let by_server = state.host.resident().iter().any(|r| r.id == id && r.loaded_by == sirocco_host::LoadedBy::Server);
    if by_server {
        state.host.unload(&id).await.map_err(|e| OllamaError(crate::on_demand::host_error(e)))?;
    } else {
        tracing::info!(model = %id, "kept in memory: not loaded by the server");
    }
    Ok(())
}

/// Why an answer ended, as Ollama says it.
pub fn done_reason(stats: &GenerationStats) -> &'static str {
    use sirocco_engine::FinishReason;
    match stats.finish_reason {
        FinishReason::Length | FinishReason::ContextFull => "length",
        _ => "stop",
    }
}

/// A finished answer's figures: `started` is when the request came, `load` how long its model
/// took to be had.
pub fn metrics(stats: &GenerationStats, started: Instant, load: Duration) -> Metrics {
    let nanos = |tokens: usize, per_second: f64| {
        if per_second > 0.0 {
            (tokens as f64 / per_second * 1e9) as u64
        } else {
            0
        }
    };
    Metrics {
        total_duration: started.elapsed().as_nanos() as u64,
        load_duration: load.as_nanos() as u64,
        prompt_eval_count: stats.prompt_tokens as u64,
        prompt_eval_duration: nanos(
            stats.prompt_tokens.saturating_sub(stats.cached_tokens),
            stats.prefill_tokens_per_second,
        ),
        eval_count: stats.generated_tokens as u64,
        eval_duration: nanos(stats.generated_tokens, stats.decode_tokens_per_second),
    }
}

/// `t` as RFC 3339 in UTC with nanoseconds, as Ollama writes `created_at`.
pub fn timestamp(t: SystemTime) -> String {
    let since = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_nanos()
    )
}

/// Completes the last line of a stream (its `done` piece) with what needs the engine again
/// (`/api/generate`'s `context`).
pub type Finish = Box<dyn FnOnce(Value) -> std::pin::Pin<Box<dyn std::future::Future<Output = Value> + Send>> + Send>;

/// The answer's pieces as NDJSON (one JSON object a line), after the engine's first event: a
/// request that fails at once gets its status and `{"error"}`; one that fails later gets an
/// `{"error"}` line, as Ollama does. `map` makes each event's lines; `finish`, when given,
/// completes the last one. A client that goes away drops the stream, and with it the
/// generation.
pub async fn stream(
    mut generation: sirocco_engine::Generation,
    mut map: impl FnMut(GenerationEvent) -> Vec<Value> + Send + 'static,
    mut finish: Option<Finish>,
    param: &'static str,
    lease: Lease,
) -> Result<Response, OllamaError> {
    let opening = match generation.events.recv().await {
        Some(GenerationEvent::Error { message, busy, overflow }) => {
            return Err(ApiError::from_generation(message, busy, overflow, param).into())
        }
        Some(event) => event,
        None => return Err(ApiError::unavailable("The engine stopped before the answer began.").into()),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<String, std::convert::Infallible>>(64);
    tokio::spawn(async move {
        let _lease = lease;
        let mut next = Some(opening);
        while let Some(event) = match next.take() {
            Some(e) => Some(e),
            None => generation.events.recv().await,
        } {
            let last = event.is_last();
            let lines = match event {
                GenerationEvent::Error { message, .. } => vec![json!({ "error": message })],
                event @ GenerationEvent::Done { .. } => {
                    let mut lines = map(event);
                    if let Some(finish) = finish.take() {
                        if let Some(line) = lines.pop() {
                            lines.push(finish(line).await);
                        }
                    }
                    lines
                }
                event => map(event),
            };
            for line in lines {
                if tx.send(Ok(format!("{line}\n"))).await.is_err() {
                    return;
                }
            }
            if last {
                break;
            }
        }
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_in_utc() {
        let t = SystemTime::UNIX_EPOCH + Duration::new(1_691_176_965, 499_127_000);
        assert_eq!(timestamp(t), "2023-08-04T19:22:45.499127000Z");
        assert_eq!(timestamp(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00.000000000Z");
        // A leap day.
        assert_eq!(
            timestamp(SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00.000000000Z"
        );
    }

    #[test]
    fn keep_alive_takes_seconds_and_go_durations() {
        let keep = |v: serde_json::Value| keep_for(Some(serde_json::from_value(v).unwrap()));
        assert_eq!(keep(json!(0)).unwrap(), KeepFor::Unload);
        assert_eq!(keep(json!("0")).unwrap(), KeepFor::Unload);
        assert_eq!(keep(json!("0s")).unwrap(), KeepFor::Unload);
        let kept = |secs: f64| KeepFor::Keep(sirocco_host::KeepAlive::For(Duration::from_secs_f64(secs)));
        assert_eq!(keep(json!(300)).unwrap(), kept(300.0));
        assert_eq!(keep(json!("5m")).unwrap(), kept(300.0));
        assert_eq!(keep(json!("1.5h")).unwrap(), kept(5400.0));
        assert_eq!(keep(json!("300ms")).unwrap(), kept(0.3));
        for forever in [json!(-1), json!("-1s"), json!("-5m")] {
            assert_eq!(keep(forever.clone()).unwrap(), KeepFor::Keep(sirocco_host::KeepAlive::Forever), "{forever}");
        }
        for bad in [json!("300"), json!("5 minutes"), json!("m"), json!("")] {
            assert!(keep(bad.clone()).is_err(), "{bad}");
        }
        assert_eq!(go_duration("1h30m"), Some(5400.0));
    }

    #[test]
    fn think_and_format_take_ollamas_values_and_refuse_others() {
        assert_eq!(effort(Some(Think::On(false))).unwrap(), Some(ReasoningEffort::None));
        assert_eq!(effort(Some(Think::Level("low".into()))).unwrap(), Some(ReasoningEffort::Low));
        assert!(effort(Some(Think::Level("extreme".into()))).is_err());
        let mut s = SamplingParams::default();
        format(Some(json!("json")), &mut s).unwrap();
        assert_eq!(s.json_schema, Some(json!({ "type": "object" })));
        assert!(format(Some(json!(3)), &mut s).is_err());
    }
}
