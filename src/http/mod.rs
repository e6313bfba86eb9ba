//! The HTTP front ends and what they share. `api/` is the native JSON API; the hosted
//! pages (`pages/`) and the OpenID Connect endpoints (`oidc/`) join it as siblings, each a
//! router over the same [`state::AppState`], the same extractors and the one problem
//! mapping (`problem.rs`, the only place an error becomes an HTTP answer). Handlers only
//! parse, call one service and shape the answer.

pub mod api;
mod cors;
pub mod extract;
pub mod oidc;
pub mod pages;
pub mod problem;
pub mod server;
pub mod state;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::{Extension, Router};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::telemetry::metrics as telemetry_metrics;
use crate::usecases::oidc::Issuer;
use state::AppState;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest any request may take: past it the client gets a 503, whatever hangs below.
/// Above every inner deadline (actor calls 5 s, database acquire 5 s, Redis 2 s), so it
/// only fires when something has none.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(15);

/// Every route of the contract, with limits, request ids and one log line per request.
pub fn router(state: AppState) -> Router {
    let (router, document) = api::documented_routes().split_for_parts();
    router
        .layer(Extension(Arc::new(document)))
        .merge(pages::routes())
        .merge(oidc::routes())
        .fallback(unknown_route)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), cors::cors))
        .layer(middleware::from_fn_with_state(state.clone(), json_headers))
        .layer(middleware::from_fn(within_deadline))
        .layer(middleware::from_fn(record_request))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(|response: &axum::response::Response, latency: Duration, _: &Span| {
                    tracing::info!(
                        status = response.status().as_u16(),
                        latency_ms = latency.as_secs_f64() * 1e3,
                        "request"
                    );
                }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// An unknown path: a page under `/ui/`, a problem document elsewhere.
async fn unknown_route(uri: axum::http::Uri) -> Response {
    match uri.path().starts_with("/ui/") {
        true => pages::not_found(),
        false => axum::response::IntoResponse::into_response(problem::unknown_route().await),
    }
}

/// Names a request by its route template, never its raw path: the refresh route carries a
/// token in the path, and paths must never reach the logs.
fn request_span(request: &Request) -> Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or("unmatched");
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!("request", method = %request.method(), route, request_id)
}

/// Every JSON answer (tokens, personal data, problems) is never cached and never sniffed as
/// another type, unless its handler chose a caching policy (discovery, the JWKS); with an
/// https public URL, every answer also tells browsers to keep to https (HSTS).
async fn json_headers(State(issuer): State<Issuer>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json") || t.starts_with("application/problem+json"));
    let headers = response.headers_mut();
    if is_json {
        if !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    }
    if issuer.as_str().starts_with("https://") {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// Answers 503 when the request outlives [`REQUEST_DEADLINE`].
async fn within_deadline(request: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_DEADLINE, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!("request outlived its deadline");
            axum::response::IntoResponse::into_response(problem::Problem::from(crate::domain::AuthError::Unavailable(
                "server",
            )))
        }
    }
}

/// Counts the request and its latency by method, route template and status.
async fn record_request(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!(telemetry_metrics::HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(telemetry_metrics::HTTP_DURATION, &labels).record(started.elapsed().as_secs_f64());
    response
}
