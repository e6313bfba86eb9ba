//! Login, refresh and logout.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json as JsonResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::AuthError;
use crate::http::extract::{bearer_token, Caller, ClientIp, Json, Path};
use crate::http::openapi::{ProblemBody, ResultBody};
use crate::http::problem::Problem;
use crate::usecases::login::{Credential, LoginOutcome};
use crate::usecases::Core;

/// The contract's credential body.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialBody {
    id: Uuid,
    name: String,
    email: String,
    /// EdDSA JWT.
    token: String,
    /// Seconds until `token` expires.
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

#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    email: String,
    password: String,
}

/// A second factor is needed: choose one of `strategyList` with `hash` at `POST /mfa/choose`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecondFactorBody {
    hash: String,
    /// `EMAIL`, `PHONE`, `GOOGLE_AUTHENTICATOR`, `RECOVERY_CODE`.
    strategy_list: Vec<&'static str>,
}

/// A credential, or the first MFA step.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum LoginBodyAnswer {
    Credential(CredentialBody),
    SecondFactor(SecondFactorBody),
}

/// Logs in with email and password.
#[utoipa::path(post, path = "/login", tag = "sessions", request_body = LoginBody,
    responses(
        (status = 200, body = LoginBodyAnswer, description = "a credential, or {hash, strategyList} when MFA is on"),
        (status = 400, body = ProblemBody),
        (status = 401, body = ProblemBody, description = "invalid_credentials"),
        (status = 429, body = ProblemBody, description = "rate_limited, with Retry-After"),
        (status = 503, body = ProblemBody, description = "overloaded, with Retry-After"),
    ))]
pub async fn login(
    State(core): State<Arc<Core>>,
    ClientIp(client): ClientIp,
    Json(body): Json<LoginBody>,
) -> Result<JsonResponse<LoginBodyAnswer>, Problem> {
    Ok(JsonResponse(
        match core.login(&body.email, body.password, client).await? {
            LoginOutcome::Authenticated(credential) => LoginBodyAnswer::Credential((*credential).into()),
            LoginOutcome::SecondFactorRequired { hash, strategies } => {
                LoginBodyAnswer::SecondFactor(SecondFactorBody {
                    hash,
                    strategy_list: strategies.iter().map(|s| s.as_str()).collect(),
                })
            }
        },
    ))
}

/// Exchanges the token in the path for its successor in the same session. An
/// `Authorization` header, if sent, must carry the same token.
#[utoipa::path(get, path = "/login/refresh/{token}", tag = "sessions",
    params(("token" = String, Path, description = "the current token")),
    responses(
        (status = 200, body = CredentialBody),
        (status = 401, body = ProblemBody, description = "invalid_token, token_reused, token_mismatch"),
    ))]
pub async fn refresh_in_path(
    State(core): State<Arc<Core>>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<JsonResponse<CredentialBody>, Problem> {
    let header_token = bearer_token(&headers).transpose()?;
    let credential = core.refresh(&token, header_token).await?;
    Ok(JsonResponse(credential.into()))
}

/// Exchanges the bearer token for its successor in the same session.
#[utoipa::path(post, path = "/login/refresh", tag = "sessions", security(("bearer" = [])),
    responses(
        (status = 200, body = CredentialBody),
        (status = 401, body = ProblemBody, description = "invalid_token, token_reused"),
    ))]
pub async fn refresh_in_header(
    State(core): State<Arc<Core>>,
    headers: HeaderMap,
) -> Result<JsonResponse<CredentialBody>, Problem> {
    let token = bearer_token(&headers).ok_or(AuthError::InvalidToken)??;
    let credential = core.refresh(token, None).await?;
    Ok(JsonResponse(credential.into()))
}

/// Ends the caller's session.
#[utoipa::path(post, path = "/logout", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, body = ResultBody), (status = 401, body = ProblemBody)))]
pub async fn logout(
    State(core): State<Arc<Core>>,
    Caller(caller): Caller,
) -> Result<JsonResponse<ResultBody>, Problem> {
    core.logout(&caller).await?;
    Ok(JsonResponse(ResultBody { result: true }))
}

/// Ends every session of the caller.
#[utoipa::path(post, path = "/logout/all", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, body = ResultBody), (status = 401, body = ProblemBody)))]
pub async fn logout_all(
    State(core): State<Arc<Core>>,
    Caller(caller): Caller,
) -> Result<JsonResponse<ResultBody>, Problem> {
    core.logout_everywhere(&caller).await?;
    Ok(JsonResponse(ResultBody { result: true }))
}
