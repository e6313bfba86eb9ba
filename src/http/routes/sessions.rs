//! Login, refresh and logout.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json as JsonResponse;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::domain::AuthError;
use crate::http::extract::{bearer_token, Caller, Json, Path};
use crate::http::problem::Problem;
use crate::usecases::login::Credential;
use crate::usecases::Core;

/// The contract's credential body.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialBody {
    id: Uuid,
    name: String,
    email: String,
    token: String,
    expires_in: i64,
}

impl From<Credential> for CredentialBody {
    fn from(credential: Credential) -> Self {
        Self {
            id: credential.user.id,
            name: credential.user.name,
            email: credential.user.email,
            token: credential.token.token,
            expires_in: credential.expires_in,
        }
    }
}

#[derive(Deserialize)]
pub struct LoginBody {
    email: String,
    password: String,
}

pub async fn login(
    State(core): State<Arc<Core>>,
    Json(body): Json<LoginBody>,
) -> Result<JsonResponse<CredentialBody>, Problem> {
    let credential = core.login(&body.email, body.password).await?;
    Ok(JsonResponse(credential.into()))
}

/// `GET /login/refresh/{token}`; an `Authorization` header, if sent, must carry the same token.
pub async fn refresh_in_path(
    State(core): State<Arc<Core>>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<JsonResponse<CredentialBody>, Problem> {
    let header_token = bearer_token(&headers).transpose()?;
    let credential = core.refresh(&token, header_token).await?;
    Ok(JsonResponse(credential.into()))
}

/// `POST /login/refresh` with the token in the `Authorization` header.
pub async fn refresh_in_header(
    State(core): State<Arc<Core>>,
    headers: HeaderMap,
) -> Result<JsonResponse<CredentialBody>, Problem> {
    let token = bearer_token(&headers).ok_or(AuthError::InvalidToken)??;
    let credential = core.refresh(token, None).await?;
    Ok(JsonResponse(credential.into()))
}

pub async fn logout(State(core): State<Arc<Core>>, Caller(caller): Caller) -> Result<JsonResponse<Value>, Problem> {
    core.logout(&caller).await?;
    Ok(JsonResponse(json!({ "result": true })))
}

pub async fn logout_all(State(core): State<Arc<Core>>, Caller(caller): Caller) -> Result<JsonResponse<Value>, Problem> {
    core.logout_everywhere(&caller).await?;
    Ok(JsonResponse(json!({ "result": true })))
}
