//! Liveness, readiness and the API document.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use axum::Json as JsonResponse;
use serde::Serialize;
use utoipa::ToSchema;

use super::openapi::ProblemBody;
use crate::http::problem::Problem;
use crate::usecases::readiness::Readiness;

#[derive(Serialize, ToSchema)]
pub struct StatusBody {
    status: &'static str,
}

/// 200 while the process lives.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = StatusBody)))]
pub async fn live() -> JsonResponse<StatusBody> {
    JsonResponse(StatusBody { status: "ok" })
}

/// 200 when storage, cache and actors answer; 503 naming what does not.
#[utoipa::path(get, path = "/health/ready", tag = "operations",
    responses((status = 200, body = StatusBody), (status = 503, body = ProblemBody)))]
pub async fn ready(State(readiness): State<Arc<Readiness>>) -> Result<JsonResponse<StatusBody>, Problem> {
    let failing = readiness.unready_components().await;
    if failing.is_empty() {
        return Ok(JsonResponse(StatusBody { status: "ready" }));
    }
    Err(Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "not_ready",
        "Not ready",
        format!("not answering: {}", failing.join(", ")),
    ))
}

/// This document: OpenAPI 3.1 of every route.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, body = Object, description = "OpenAPI 3.1 document")))]
pub async fn openapi_document(
    Extension(document): Extension<Arc<utoipa::openapi::OpenApi>>,
) -> JsonResponse<Arc<utoipa::openapi::OpenApi>> {
    JsonResponse(document)
}

/// Prometheus text: HTTP, actor and domain metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, content_type = "text/plain", body = String, description = "Prometheus exposition format")))]
pub async fn metrics() -> ([(axum::http::HeaderName, &'static str); 1], String) {
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::telemetry::metrics::install().render(),
    )
}
