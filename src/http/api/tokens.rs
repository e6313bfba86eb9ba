//! Token introspection and the public keys.

use std::sync::Arc;

use axum::extract::State;
use axum::Json as JsonResponse;
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::openapi::ProblemBody;
use crate::http::extract::Json;
use crate::http::problem::Problem;
use crate::usecases::tokens::Tokens;

#[derive(Deserialize, ToSchema)]
pub struct IntrospectBody {
    #[schema(value_type = String)]
    token: SecretString,
}

/// Whether a token is active; `sub`, `sid` and `exp` only when it is.
#[derive(Serialize, ToSchema)]
pub struct IntrospectionBody {
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
}

/// Tells another service whether a token is still good (signed, unexpired, not revoked).
#[utoipa::path(post, path = "/token/introspect", tag = "tokens", request_body = IntrospectBody,
    responses((status = 200, body = IntrospectionBody), (status = 400, body = ProblemBody)))]
pub async fn introspect(
    State(tokens): State<Arc<Tokens>>,
    Json(body): Json<IntrospectBody>,
) -> Result<JsonResponse<IntrospectionBody>, Problem> {
    let claims = tokens.introspect(body.token.expose_secret()).active;
    Ok(JsonResponse(IntrospectionBody {
        active: claims.is_some(),
        sub: claims.as_ref().map(|c| c.sub),
        sid: claims.as_ref().map(|c| c.sid),
        exp: claims.as_ref().map(|c| c.exp),
    }))
}

/// The JSON Web Key Set that verifies this server's tokens.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "tokens",
    responses((status = 200, body = Object, description = "RFC 7517 key set (OKP / Ed25519)")))]
pub async fn jwks(State(tokens): State<Arc<Tokens>>) -> impl axum::response::IntoResponse {
    // Short enough that a rotated key reaches relying parties soon, long enough to spare
    // a fetch per token.
    let caching = [(axum::http::header::CACHE_CONTROL, "public, max-age=300")];
    (caching, JsonResponse(tokens.jwks()))
}
