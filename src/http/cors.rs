//! Cross-origin access (the Fetch standard's CORS protocol) to the endpoints a browser
//! application calls itself: discovery, the JWKS, token, userinfo, revocation,
//! introspection and logout. Only the origins of registered redirect URIs and
//! `AUTH_CORS_ORIGINS` are answered; no credentials (cookies) are ever allowed, since the
//! tokens travel in headers and bodies. Preflights are answered here, before routing.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use crate::usecases::clients::OAuthClients;

/// The paths CORS applies to.
const PATHS: &[&str] = &[
    "/.well-known/openid-configuration",
    "/.well-known/jwks.json",
    "/oauth2/token",
    "/oauth2/userinfo",
    "/oauth2/revoke",
    "/oauth2/introspect",
    "/oauth2/logout",
];

/// How long a browser may keep a preflight's answer.
const PREFLIGHT_MAX_AGE: &str = "600";

/// Adds the CORS headers for an allowed origin, and answers preflights.
pub async fn cors(State(clients): State<Arc<OAuthClients>>, request: Request, next: Next) -> Response {
    if !PATHS.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let origin = request.headers().get(header::ORIGIN).cloned();
    let allowed = match origin.as_ref().and_then(|o| o.to_str().ok()) {
        Some(text) => clients.allows_origin(text).await,
        None => false,
    };
    let preflight =
        request.method() == Method::OPTIONS && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = match preflight {
        true => {
            let mut response = StatusCode::NO_CONTENT.into_response();
            if allowed {
                let headers = response.headers_mut();
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("GET, POST"),
                );
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static("authorization, content-type"),
                );
                headers.insert(
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static(PREFLIGHT_MAX_AGE),
                );
            }
            response
        }
        false => next.run(request).await,
    };
    allow(response.headers_mut(), origin.filter(|_| allowed));
    response
}

fn allow(headers: &mut HeaderMap, origin: Option<HeaderValue>) {
    headers.append(header::VARY, HeaderValue::from_static("origin"));
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("www-authenticate"),
        );
    }
}
