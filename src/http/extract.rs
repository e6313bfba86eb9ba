//! Request extractors whose failures are problem+json answers: JSON bodies, path and
//! query parameters, the bearer token of the caller, the token of a refresh, and where the
//! request came from. Shared by every front end under `http/`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use secrecy::{ExposeSecret as _, SecretString};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq as _;

use super::problem::Problem;
use super::state::ClientAddressing;
use crate::domain::events::Origin;
use crate::domain::token::Claims;
use crate::domain::AuthError;
use crate::usecases::tokens::Tokens;

/// A JSON body. Wrong content type: 415; too large: 413; not JSON: 400 `malformed_json`;
/// wrong shape: 400 `validation_failed` naming the field but never echoing its value.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        if !is_json(request.headers()) {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
                "send the body as application/json",
            ));
        }
        let body = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "Payload too large",
                    "the body is over 16 KiB",
                )
            } else {
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_json",
                    "Malformed JSON",
                    "the body could not be read",
                )
            }
        })?;
        let mut deserializer = serde_json::Deserializer::from_slice(&body);
        let value = serde_path_to_error::deserialize(&mut deserializer).map_err(shape_problem)?;
        deserializer.end().map_err(|_| malformed_json())?;
        Ok(Json(value))
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

fn shape_problem(err: serde_path_to_error::Error<serde_json::Error>) -> Problem {
    use serde_json::error::Category;
    let path = err.path().to_string();
    let inner = err.inner();
    match inner.classify() {
        Category::Data => {
            let message = inner.to_string();
            let detail = if message.starts_with("missing field") || message.starts_with("unknown field") {
                message.split(" at line").next().unwrap_or_default().to_owned()
            } else {
                format!("{path}: has the wrong type or value")
            };
            Problem::new(StatusCode::BAD_REQUEST, "validation_failed", "Invalid input", detail)
        }
        Category::Syntax | Category::Eof | Category::Io => malformed_json(),
    }
}

fn malformed_json() -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "malformed_json",
        "Malformed JSON",
        "the body is not valid JSON",
    )
}

/// A path parameter; a malformed one is a 400 problem.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Problem))]
pub struct Path<T>(pub T);

/// Query parameters; malformed ones are a 400 problem.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Problem))]
pub struct Query<T>(pub T);

/// The authenticated caller of the native API: a valid, unexpired, unrevoked bearer token
/// meant for this API (a session's, or a client's granted `authd:api`), else 401.
pub struct Caller(pub Claims);

impl<S: Send + Sync> FromRequestParts<S> for Caller
where
    Arc<Tokens>: FromRef<S>,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let token = bearer_token(&parts.headers).ok_or(AuthError::InvalidToken)?;
        Ok(Caller(Arc::<Tokens>::from_ref(state).authenticate_for_api(token?)?))
    }
}

/// The caller when a bearer token is sent (which must then be valid), else nobody.
pub struct MaybeCaller(pub Option<Claims>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeCaller
where
    Arc<Tokens>: FromRef<S>,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match bearer_token(&parts.headers) {
            None => Ok(MaybeCaller(None)),
            Some(token) => Ok(MaybeCaller(Some(
                Arc::<Tokens>::from_ref(state).authenticate_for_api(token?)?,
            ))),
        }
    }
}

/// Where the request came from: the client address (the last entry of the configured proxy
/// header when there is one, else the peer address of the connection) and its user agent.
/// The address keys per-client throttling; both go into security events.
pub struct ClientOrigin(pub Origin);

/// Longest user agent kept; a longer one is cut (on a character boundary).
const MAX_USER_AGENT: usize = 512;

impl<S: Send + Sync> FromRequestParts<S> for ClientOrigin
where
    ClientAddressing: FromRef<S>,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let addressing = ClientAddressing::from_ref(state);
        let from_proxy = addressing.header.as_deref().and_then(|name| {
            let values = parts.headers.get_all(name);
            let last = values.iter().next_back()?;
            let entry = last
                .to_str()
                .ok()
                .and_then(|text| text.rsplit(',').next())
                .map(str::trim);
            let parsed = entry.and_then(client_address);
            if parsed.is_none() {
                // The proxy's own address would stand in for every client behind it, so
                // one client's failures would lock everyone out: say so loudly.
                metrics::counter!(crate::telemetry::metrics::CLIENT_ADDRESS_UNPARSABLE).increment(1);
                tracing::warn!(
                    header = name,
                    "the client address header could not be read; using the peer address"
                );
            }
            parsed
        });
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|agent| agent.chars().take(MAX_USER_AGENT).collect());
        Ok(ClientOrigin(Origin {
            ip: from_proxy.unwrap_or(peer),
            user_agent,
        }))
    }
}

/// A client address as proxies write it: `203.0.113.7`, `203.0.113.7:4711`, `2001:db8::1`,
/// `[2001:db8::1]:4711`, `fe80::1%eth0` (the zone dropped), or RFC 7239's quoted
/// `"[2001:db8::1]:4711"`; `None` for anything else.
pub fn client_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim().trim_matches('"');
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = entry.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    let unbracketed = entry
        .strip_prefix('[')
        .and_then(|rest| rest.split(']').next())
        .unwrap_or(entry);
    let without_zone = unbracketed.split('%').next()?;
    without_zone.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
}

/// The token of `GET /login/refresh/{token}`. An `Authorization` header, when the client
/// also sends one, must carry the same token (compared in constant time), else 401
/// `token_mismatch`: a client that mixes up two sessions learns it at once.
pub struct RefreshToken(pub SecretString);

impl<S: Send + Sync> FromRequestParts<S> for RefreshToken {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let Path(token) = Path::<String>::from_request_parts(parts, state).await?;
        let token = SecretString::from(token);
        if let Some(header_token) = bearer_token(&parts.headers).transpose()? {
            if !bool::from(header_token.as_bytes().ct_eq(token.expose_secret().as_bytes())) {
                return Err(AuthError::TokenMismatch.into());
            }
        }
        Ok(RefreshToken(token))
    }
}

/// The bearer token of `POST /login/refresh`, as sent (401 when there is none): the
/// refresh itself verifies it, since a rotated-away token must reach the reuse detection
/// instead of being refused here.
pub struct BearerToken(pub SecretString);

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        let token = bearer_token(&parts.headers).ok_or(AuthError::InvalidToken)??;
        Ok(BearerToken(SecretString::from(token.to_owned())))
    }
}

/// The token of an `Authorization: Bearer` header: `None` when there is no header, an error
/// when there is one of another form.
pub fn bearer_token(headers: &HeaderMap) -> Option<Result<&str, AuthError>> {
    let value = headers.get(header::AUTHORIZATION)?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    Some(token.ok_or(AuthError::InvalidToken))
}

#[cfg(test)]
mod tests {
    use super::client_address;

    #[test]
    fn client_addresses_are_read_in_every_form_proxies_write() {
        for (entry, ip) in [
            ("203.0.113.7", "203.0.113.7"),
            (" 203.0.113.7:4711", "203.0.113.7"),
            ("2001:db8::1", "2001:db8::1"),
            ("[2001:db8::1]:4711", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("fe80::1%eth0", "fe80::1"),
            ("\"[2001:db8::1]:4711\"", "2001:db8::1"),
        ] {
            assert_eq!(client_address(entry), Some(ip.parse().unwrap()), "{entry}");
        }
        for junk in ["", "unknown", "999.1.1.1", "_hidden", "1.2.3.4:port"] {
            assert_eq!(client_address(junk), None, "{junk}");
        }
    }
}
