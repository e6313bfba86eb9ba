//! `POST /oauth2/token` and `/oauth2/userinfo`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use secrecy::{ExposeSecret as _, SecretString};

use super::{no_store, oauth_error, parameters};
use crate::domain::oidc::OAuthError;
use crate::http::extract::{bearer_token, ClientOrigin};
use crate::http::pages::browser::is_form;
use crate::usecases::clients::ClientAuth;
use crate::usecases::oidc::revocation::ClientTokens;
use crate::usecases::oidc::token::{TokenError, TokenGrants, TokenRequest};
use crate::usecases::tokens::Tokens;

pub async fn token(
    State(grants): State<Arc<TokenGrants>>,
    ClientOrigin(origin): ClientOrigin,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(mut form) = parse_form(&headers, &body) else {
        let error = OAuthError::invalid_request("send a form (application/x-www-form-urlencoded), each parameter once");
        return oauth_error(StatusCode::BAD_REQUEST, &error);
    };
    let auth = match client_auth(&headers, &mut form) {
        Ok(auth) => auth,
        Err(error) => return oauth_error(StatusCode::BAD_REQUEST, &error),
    };
    let request = TokenRequest {
        grant_type: form.remove("grant_type"),
        code: form.remove("code"),
        redirect_uri: form.remove("redirect_uri"),
        code_verifier: form.remove("code_verifier"),
        refresh_token: form.remove("refresh_token").map(SecretString::from),
        scope: form.remove("scope"),
        resource: form.remove("resource"),
    };
    match grants.grant(auth, request, &origin).await {
        Ok(granted) => {
            let mut body = serde_json::json!({
                "access_token": granted.access_token.expose_secret(),
                "token_type": "Bearer",
                "expires_in": granted.expires_in,
                "scope": granted.scope,
            });
            if let Some(id_token) = granted.id_token {
                body["id_token"] = serde_json::json!(id_token);
            }
            if let Some(refresh) = granted.refresh_token {
                body["refresh_token"] = serde_json::json!(refresh.expose_secret());
            }
            let mut response = Json(body).into_response();
            no_store(&mut response);
            response
        }
        Err(refused) => refusal(refused),
    }
}

/// The form's parameters; `None` when it is not a form or a parameter is repeated.
fn parse_form(headers: &HeaderMap, body: &[u8]) -> Option<HashMap<String, String>> {
    is_form(headers).then(|| parameters(body)).flatten()
}

/// The client's credentials: HTTP Basic (RFC 6749 §2.3.1, both parts form-encoded) or
/// `client_id`/`client_secret` in the form, never both.
fn client_auth(headers: &HeaderMap, form: &mut HashMap<String, String>) -> Result<ClientAuth, OAuthError> {
    let in_form = (form.remove("client_id"), form.remove("client_secret"));
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")));
    match (basic, in_form) {
        (Some(encoded), (None, None)) => {
            let malformed = || OAuthError::new("invalid_client", "the Basic credentials are malformed");
            let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
            let text = String::from_utf8(decoded).map_err(|_| malformed())?;
            let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
            let unescape = |part: &str| -> Result<String, OAuthError> {
                let pairs: Vec<(String, String)> =
                    serde_urlencoded::from_str(&format!("v={part}")).map_err(|_| malformed())?;
                Ok(pairs.into_iter().next().map(|(_, v)| v).unwrap_or_default())
            };
            Ok(ClientAuth {
                client_id: Some(unescape(id)?),
                secret: Some(SecretString::from(unescape(secret)?)),
                basic: true,
            })
        }
        (Some(_), _) => Err(OAuthError::invalid_request("authenticate the client one way only")),
        (None, (client_id, secret)) => Ok(ClientAuth {
            client_id,
            secret: secret.map(SecretString::from),
            basic: false,
        }),
    }
}

/// `POST /oauth2/revoke` (RFC 7009): 200 whatever the token was.
pub async fn revoke(
    State(client_tokens): State<Arc<ClientTokens>>,
    ClientOrigin(origin): ClientOrigin,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (auth, token) = match token_form(&headers, &body) {
        Ok(parts) => parts,
        Err(response) => return response,
    };
    match client_tokens.revoke(&auth, &token, &origin).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(refused) => refusal(refused),
    }
}

/// `POST /oauth2/introspect` (RFC 7662), for confidential clients.
pub async fn introspect(State(client_tokens): State<Arc<ClientTokens>>, headers: HeaderMap, body: Bytes) -> Response {
    let (auth, token) = match token_form(&headers, &body) {
        Ok(parts) => parts,
        Err(response) => return response,
    };
    match client_tokens.introspect(&auth, &token).await {
        Ok(answer) => {
            let mut response = Json(answer).into_response();
            no_store(&mut response);
            response
        }
        Err(refused) => refusal(refused),
    }
}

/// The client's credentials and the `token` parameter of a revocation or introspection.
#[allow(clippy::result_large_err)]
fn token_form(headers: &HeaderMap, body: &[u8]) -> Result<(ClientAuth, String), Response> {
    let bad = |text: &str| oauth_error(StatusCode::BAD_REQUEST, &OAuthError::invalid_request(text));
    let mut form = parse_form(headers, body).ok_or_else(|| bad("send a form, each parameter once"))?;
    let auth = client_auth(headers, &mut form).map_err(|e| oauth_error(StatusCode::BAD_REQUEST, &e))?;
    let token = form.remove("token").ok_or_else(|| bad("token is missing"))?;
    Ok((auth, token))
}

fn refusal(refused: TokenError) -> Response {
    match refused.client {
        true => {
            let mut response = oauth_error(StatusCode::UNAUTHORIZED, &refused.error);
            if refused.basic {
                let challenge = HeaderValue::from_static("Basic realm=\"authd\"");
                response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
            }
            response
        }
        false => oauth_error(StatusCode::BAD_REQUEST, &refused.error),
    }
}

/// `GET` or `POST /oauth2/userinfo`. The access token comes in the `Authorization` header
/// or, on a POST, as `access_token` in a form body (RFC 6750 §2.1, §2.2), never both
/// (`invalid_request`). Refusals follow RFC 6750 §3: no token at all is a bare
/// `WWW-Authenticate: Bearer` challenge, a bad one `invalid_token`, a token without
/// `openid` `insufficient_scope` (403).
pub async fn userinfo(
    State(tokens): State<Arc<Tokens>>,
    State(grants): State<Arc<TokenGrants>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let refused = |error: Option<&str>, status: StatusCode| {
        let mut response = status.into_response();
        let challenge = match error {
            Some(error) => format!("Bearer realm=\"authd\", error=\"{error}\""),
            None => "Bearer realm=\"authd\"".to_owned(),
        };
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        response
    };
    // RFC 6750 §2.2 asks for a form body; Authlib's `token_placement="body"` sends one with
    // no Content-Type at all, so a body without one is read as a form too (any other
    // declared type is refused).
    let untyped = !headers.contains_key(header::CONTENT_TYPE);
    let in_body = match body.is_empty() {
        true => None,
        false => match parse_form(&headers, &body).or_else(|| untyped.then(|| parameters(&body)).flatten()) {
            Some(mut form) => form.remove("access_token"),
            None => return refused(Some("invalid_request"), StatusCode::BAD_REQUEST),
        },
    };
    let token = match (bearer_token(&headers), in_body) {
        (Some(_), Some(_)) => return refused(Some("invalid_request"), StatusCode::BAD_REQUEST),
        (Some(Ok(token)), None) => token.to_owned(),
        (Some(Err(_)), None) => return refused(Some("invalid_request"), StatusCode::BAD_REQUEST),
        (None, Some(token)) => token,
        (None, None) => return refused(None, StatusCode::UNAUTHORIZED),
    };
    let Ok(claims) = tokens.authenticate(&token) else {
        return refused(Some("invalid_token"), StatusCode::UNAUTHORIZED);
    };
    match grants.userinfo(&claims).await {
        Ok(info) => {
            let mut response = Json(info).into_response();
            no_store(&mut response);
            response
        }
        Err(error) if error.code == "insufficient_scope" => refused(Some("insufficient_scope"), StatusCode::FORBIDDEN),
        Err(error) => oauth_error(StatusCode::SERVICE_UNAVAILABLE, &error),
    }
}
