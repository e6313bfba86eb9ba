//! The OpenID Connect provider's endpoints. They follow their RFCs rather than the native
//! API's conventions: form-encoded requests, snake_case, and RFC 6749 §5.2 error bodies
//! `{"error", "error_description"}` instead of problem documents. The decisions live in
//! `usecases/oidc`; these handlers parse and shape.

mod authorize;
mod token;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::state::AppState;
use crate::domain::oidc::OAuthError;
use crate::usecases::oidc::Issuer;

/// Discovery, authorization, token and userinfo.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route(
            "/oauth2/authorize",
            get(authorize::authorize).post(authorize::authorize_posted),
        )
        .route("/oauth2/authorize/resume", get(authorize::resume))
        .route("/oauth2/consent", axum::routing::post(authorize::consent))
        .route("/oauth2/logout", get(authorize::logout))
        .route("/oauth2/token", axum::routing::post(token::token))
        .route("/oauth2/userinfo", get(token::userinfo).post(token::userinfo))
        .route("/oauth2/revoke", axum::routing::post(token::revoke))
        .route("/oauth2/introspect", axum::routing::post(token::introspect))
        .layer(axum::middleware::from_fn(super::pages::security_headers))
}

/// The discovery document; it changes only with the deployment, so relying parties may
/// cache it for an hour.
async fn discovery(axum::extract::State(issuer): axum::extract::State<Issuer>) -> Response {
    let mut response = Json(issuer.discovery()).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    response
}

/// The parameters of a query or form body; `None` when one is repeated (RFC 6749 §3.1,
/// §3.2) or the text is unreadable.
fn parameters(encoded: &[u8]) -> Option<std::collections::HashMap<String, String>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(encoded).ok()?;
    let mut parameters = std::collections::HashMap::with_capacity(pairs.len());
    for (name, value) in pairs {
        if parameters.insert(name, value).is_some() {
            return None;
        }
    }
    Some(parameters)
}

/// An RFC 6749 §5.2 error answer with `status`; never cached.
fn oauth_error(status: StatusCode, error: &OAuthError) -> Response {
    let body = serde_json::json!({ "error": error.code, "error_description": error.description });
    let mut response = (status, Json(body)).into_response();
    no_store(&mut response);
    response
}

/// Token responses and their errors must not be cached (RFC 6749 §5.1).
fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}
