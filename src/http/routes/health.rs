//! Liveness and readiness.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use serde_json::{json, Value};

use crate::http::problem::Problem;
use crate::usecases::Core;

pub async fn live() -> JsonResponse<Value> {
    JsonResponse(json!({ "status": "ok" }))
}

pub async fn ready(State(core): State<Arc<Core>>) -> Result<JsonResponse<Value>, Problem> {
    let failing = core.unready_components().await;
    if failing.is_empty() {
        return Ok(JsonResponse(json!({ "status": "ready" })));
    }
    Err(Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "not_ready",
        "Not ready",
        format!("not answering: {}", failing.join(", ")),
    ))
}
