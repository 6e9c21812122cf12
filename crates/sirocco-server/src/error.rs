//! Errors in OpenAI's format: `{"error": {"message", "type", "param", "code"}}` with the status
//! code OpenAI uses for each kind.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// OpenAI's code for a prompt longer than the model's context.
pub const CONTEXT_LENGTH_EXCEEDED: &str = "context_length_exceeded";

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
    pub param: Option<&'static str>,
    pub code: Option<&'static str>,
}

impl ApiError {
    pub fn invalid(message: impl Into<String>, param: Option<&'static str>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            message: message.into(),
            param,
            code: None,
        }
    }

    pub fn unauthorized() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            kind: "invalid_request_error",
            message: "Incorrect or missing API key: send it as `Authorization: Bearer <key>` or `x-api-key: <key>`."
                .into(),
            param: None,
            code: Some("invalid_api_key"),
        }
    }

    /// A request the server's boundary refused: the host it names, or the web page it came from.
    pub fn forbidden(refusal: crate::boundary::Refusal) -> Self {
        use crate::boundary::Refusal;
        let (message, code) = match refusal {
            Refusal::Host(host) => (
                format!(
                    "This server does not answer to the host name `{host}`. Name it as 127.0.0.1, localhost or [::1]; \
                     to use this name, add it to the trusted host names (Sirocco's Server page, or \
                     `sirocco serve --trusted-host`)."
                ),
                "host_not_allowed",
            ),
            Refusal::Origin(origin) => (
                format!(
                    "Web pages at `{origin}` may not call this server. To allow this page, add its origin to the \
                     allowed web pages (CORS) on Sirocco's Server page, or `sirocco serve --cors-origin`."
                ),
                "origin_not_allowed",
            ),
        };
        Self { status: StatusCode::FORBIDDEN, kind: "permission_error", message, param: None, code: Some(code) }
    }

    /// A peer that failed the key check too often lately (see `boundary`).
    pub fn too_many_failures(retry_after: std::time::Duration) -> Self {
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            kind: "invalid_request_error",
            message: format!(
                "Too many requests with a wrong API key from this address: try again in {} s.",
                retry_after.as_secs().max(1)
            ),
            param: None,
            code: Some("too_many_key_failures"),
        }
    }

    pub fn model_not_found(model: &str, loaded: &[String]) -> Self {
        let served = if loaded.is_empty() {
            "none".to_owned()
        } else {
            loaded.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
        };
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "invalid_request_error",
            message: format!("The model `{model}` is not loaded; this server serves {served}."),
            param: Some("model"),
            code: Some("model_not_found"),
        }
    }

    /// A model that is neither loaded nor in the library the server may load from.
    pub fn model_not_in_library(model: &str, available: &[String]) -> Self {
        let list = if available.is_empty() { "none".to_owned() } else { available.join(", ") };
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "invalid_request_error",
            message: format!("The model `{model}` is not in the library. Available: {list}."),
            param: Some("model"),
            code: Some("model_not_found"),
        }
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            kind: "server_error",
            message: message.into(),
            param: None,
            code: None,
        }
    }

    /// Too many requests in flight: try again shortly.
    pub fn busy() -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            kind: "server_error",
            message: "The server is busy: too many requests are waiting. Try again shortly.".into(),
            param: None,
            code: Some("server_busy"),
        }
    }

    /// The model does not fit beside the loaded ones (the message names the models in the way).
    pub fn no_room(message: String) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            kind: "server_error",
            message,
            param: Some("model"),
            code: Some("model_no_room"),
        }
    }

    pub fn not_found(path: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "invalid_request_error",
            message: format!("Unknown endpoint {path}."),
            param: None,
            code: Some("unknown_url"),
        }
    }
}

impl ApiError {
    /// A generation that failed: the engine's state (503) or the request (400); a prompt longer
    /// than the context is OpenAI's `context_length_exceeded` (clients shorten and retry on it).
    pub fn from_generation(message: String, busy: bool, overflow: bool, param: &'static str) -> Self {
        if busy {
            Self::unavailable(message)
        } else if overflow {
            Self { code: Some(CONTEXT_LENGTH_EXCEEDED), ..Self::invalid(message, Some(param)) }
        } else {
            Self::invalid(message, Some(param))
        }
    }
}

impl From<sirocco_engine::EngineError> for ApiError {
    fn from(e: sirocco_engine::EngineError) -> Self {
        // No model (or no engine) is the server's state, not the request's fault; the rest is
        // about the request (too long for the context, bad sampling values…).
        use sirocco_engine::EngineError;
        match e {
            EngineError::NoModelLoaded | EngineError::EngineGone => Self::unavailable(e.to_string()),
            e => Self::invalid(e.to_string(), None),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": { "message": self.message, "type": self.kind, "param": self.param, "code": self.code }
        });
        (self.status, retry_after(self.code), Json(body)).into_response()
    }
}

/// An error on the Anthropic Messages API: the same error, in Anthropic's shape
/// (`{"type": "error", "error": {"type", "message"}}`) with the type its clients map from each
/// status.
#[derive(Debug)]
pub struct AnthropicError(pub ApiError);

impl From<ApiError> for AnthropicError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl AnthropicError {
    /// Anthropic's name for the error's kind.
    pub fn kind(&self) -> &'static str {
        match self.0.status.as_u16() {
            400 => "invalid_request_error",
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            413 => "request_too_large",
            429 => "rate_limit_error",
            503 if matches!(self.0.code, Some("server_busy" | "model_no_room")) => "overloaded_error",
            _ => "api_error",
        }
    }
}

impl AnthropicError {
    /// The message as Anthropic words it; a prompt longer than the context begins with
    /// "prompt is too long" (what Claude Code looks for before compacting).
    pub fn message(&self) -> String {
        if self.0.code == Some(CONTEXT_LENGTH_EXCEEDED) {
            format!("prompt is too long: {}", self.0.message)
        } else {
            self.0.message.clone()
        }
    }
}

impl IntoResponse for AnthropicError {
    fn into_response(self) -> Response {
        let body = crate::wire::anthropic::ErrorResponse {
            kind: "error",
            error: crate::wire::anthropic::ErrorBody { kind: self.kind(), message: self.message() },
        };
        (self.0.status, retry_after(self.0.code), Json(body)).into_response()
    }
}

/// `Retry-After` for the errors a client should retry later.
fn retry_after(code: Option<&str>) -> Option<[(axum::http::HeaderName, &'static str); 1]> {
    match code {
        Some("server_busy") => Some([(axum::http::header::RETRY_AFTER, "1")]),
        Some("too_many_key_failures") => Some([(axum::http::header::RETRY_AFTER, "60")]),
        _ => None,
    }
}
