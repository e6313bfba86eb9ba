//! The HTTP front end: routes, extractors and the problem mapping. Handlers only parse,
//! call a use case and shape the answer.

pub mod extract;
pub mod problem;
pub mod routes;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::HeaderName;
use axum::routing::{get, post};
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::usecases::Core;
use routes::{health, organizations, sessions, tokens, users};

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Every route of the contract, with limits, request ids and one log line per request.
pub fn router(core: Arc<Core>) -> Router {
    Router::new()
        .route("/user", post(users::sign_up).patch(users::update).get(users::list))
        .route("/user/me", get(users::me))
        .route("/login", post(sessions::login))
        .route("/login/refresh", post(sessions::refresh_in_header))
        .route("/login/refresh/{token}", get(sessions::refresh_in_path))
        .route("/logout", post(sessions::logout))
        .route("/logout/all", post(sessions::logout_all))
        .route(
            "/organization",
            post(organizations::create)
                .patch(organizations::update)
                .get(organizations::mine),
        )
        .route(
            "/organization/add",
            post(organizations::add_member).patch(organizations::update),
        )
        .route("/organization/{id}", get(organizations::details))
        .route(
            "/organization/{id}/member/{user_id}",
            axum::routing::delete(organizations::remove_member),
        )
        .route("/token/introspect", post(tokens::introspect))
        .route("/.well-known/jwks.json", get(tokens::jwks))
        .route("/health", get(health::live))
        .route("/health/ready", get(health::ready))
        .fallback(problem::unknown_route)
        .method_not_allowed_fallback(problem::method_not_allowed)
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
        .with_state(core)
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
