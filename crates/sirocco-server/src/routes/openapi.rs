//! `GET /openapi.json`: the API this server implements, as an OpenAPI 3.1 document (for tools
//! and for property-based tests of hostile requests).

use axum::http::header;
use axum::response::IntoResponse;

const DOCUMENT: &str = include_str!("../openapi.json");

pub async fn handle() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}
