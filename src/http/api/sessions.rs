//! Login, refresh and logout.

use std::sync::Arc;

use axum::extract::State;
use axum::Json as JsonResponse;
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::openapi::{ProblemBody, ResultBody};
use crate::domain::credential::Credential;
use crate::domain::session::SessionInfo;
use crate::domain::AuthError;
use crate::http::extract::{BearerToken, Caller, ClientOrigin, Json, Path, RefreshToken};
use crate::http::problem::Problem;
use crate::usecases::login::{Confirmation, Login, LoginOutcome};
use crate::usecases::passkey_login::PasskeyLogin;
use crate::usecases::sessions::Sessions;

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
            id: credential.holder.id,
            name: credential.holder.name,
            email: credential.holder.email.as_str().to_owned(),
            token: credential.token.token.expose_secret().to_owned(),
            expires_in: credential.expires_in,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    email: String,
    #[schema(value_type = String)]
    password: SecretString,
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
    State(login): State<Arc<Login>>,
    ClientOrigin(origin): ClientOrigin,
    Json(body): Json<LoginBody>,
) -> Result<JsonResponse<LoginBodyAnswer>, Problem> {
    Ok(JsonResponse(
        match login.login(&body.email, body.password, &origin).await? {
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
    State(sessions): State<Arc<Sessions>>,
    ClientOrigin(origin): ClientOrigin,
    RefreshToken(token): RefreshToken,
) -> Result<JsonResponse<CredentialBody>, Problem> {
    let credential = sessions.refresh(&token, &origin).await?;
    Ok(JsonResponse(credential.into()))
}

/// Exchanges the bearer token for its successor in the same session.
#[utoipa::path(post, path = "/login/refresh", tag = "sessions", security(("bearer" = [])),
    responses(
        (status = 200, body = CredentialBody),
        (status = 401, body = ProblemBody, description = "invalid_token, token_reused"),
    ))]
pub async fn refresh_in_header(
    State(sessions): State<Arc<Sessions>>,
    ClientOrigin(origin): ClientOrigin,
    BearerToken(token): BearerToken,
) -> Result<JsonResponse<CredentialBody>, Problem> {
    let credential = sessions.refresh(&token, &origin).await?;
    Ok(JsonResponse(credential.into()))
}

/// The password, or a code of the authenticator app: one of the two.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    #[schema(value_type = Option<String>)]
    password: Option<SecretString>,
    /// A current code of the caller's authenticator app (GOOGLE_AUTHENTICATOR).
    #[schema(value_type = Option<String>)]
    code: Option<SecretString>,
}

impl ConfirmBody {
    fn confirmation(self) -> Result<Confirmation, AuthError> {
        match (self.password, self.code) {
            (Some(password), None) => Ok(Confirmation::Password(password)),
            (None, Some(code)) => Ok(Confirmation::AppCode(code)),
            _ => Err(AuthError::invalid(
                "password",
                "give the password or an authenticator code, one of the two",
            )),
        }
    }
}

/// Confirms it is still the caller, by password or authenticator code: for the
/// re-authentication window (`AUTH_REAUTH_WINDOW_SECS`, default 15 minutes) the session
/// may remove factors and change the e-mail. Wrong answers are throttled like `/login`.
#[utoipa::path(post, path = "/login/confirm", tag = "sessions", security(("bearer" = [])), request_body = ConfirmBody,
    responses(
        (status = 200, body = ResultBody),
        (status = 400, body = ProblemBody, description = "validation_failed; strategy_not_listed for a code without an authenticator app"),
        (status = 401, body = ProblemBody, description = "invalid_credentials, invalid_code, invalid_token"),
        (status = 429, body = ProblemBody),
    ))]
pub async fn confirm(
    State(login): State<Arc<Login>>,
    Caller(caller): Caller,
    ClientOrigin(origin): ClientOrigin,
    Json(body): Json<ConfirmBody>,
) -> Result<JsonResponse<ResultBody>, Problem> {
    login.confirm(&caller, body.confirmation()?, &origin).await?;
    Ok(JsonResponse(ResultBody { result: true }))
}

/// Ends the caller's session.
#[utoipa::path(post, path = "/logout", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, body = ResultBody), (status = 401, body = ProblemBody)))]
pub async fn logout(
    State(sessions): State<Arc<Sessions>>,
    Caller(caller): Caller,
    ClientOrigin(origin): ClientOrigin,
) -> Result<JsonResponse<ResultBody>, Problem> {
    sessions.logout(&caller, &origin).await?;
    Ok(JsonResponse(ResultBody { result: true }))
}

/// Ends every session of the caller.
#[utoipa::path(post, path = "/logout/all", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, body = ResultBody), (status = 401, body = ProblemBody)))]
pub async fn logout_all(
    State(sessions): State<Arc<Sessions>>,
    Caller(caller): Caller,
    ClientOrigin(origin): ClientOrigin,
) -> Result<JsonResponse<ResultBody>, Problem> {
    sessions.logout_everywhere(&caller, &origin).await?;
    Ok(JsonResponse(ResultBody { result: true }))
}

/// One of the caller's live sessions.
/// A live session as its owner sees it (in the sessions list and the export).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfoBody {
    id: Uuid,
    /// RFC 3339.
    created_at: String,
    /// The last refresh, or the sign-in (RFC 3339).
    last_used_at: String,
    /// RFC 3339.
    expires_at: String,
    user_agent: Option<String>,
    ip: Option<String>,
}

impl From<SessionInfo> for SessionInfoBody {
    fn from(session: SessionInfo) -> Self {
        Self {
            id: session.id,
            created_at: rfc3339(session.created_at),
            last_used_at: rfc3339(session.last_used_at),
            expires_at: rfc3339(session.expires_at),
            user_agent: session.user_agent,
            ip: session.ip,
        }
    }
}

/// One of the caller's live sessions.
#[derive(Serialize, ToSchema)]
pub struct SessionBody {
    #[serde(flatten)]
    info: SessionInfoBody,
    /// The session of the token this request carries.
    current: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SessionListBody {
    /// Newest first.
    list: Vec<SessionBody>,
}

fn rfc3339(unix: i64) -> String {
    crate::domain::rfc3339(unix).unwrap_or_default()
}

/// The caller's live sessions, newest first.
#[utoipa::path(get, path = "/user/sessions", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = SessionListBody), (status = 401, body = ProblemBody)))]
pub async fn list(
    State(sessions): State<Arc<Sessions>>,
    Caller(caller): Caller,
) -> Result<JsonResponse<SessionListBody>, Problem> {
    let live = sessions.list(&caller).await?;
    let list = live
        .into_iter()
        .map(|session| SessionBody {
            current: session.id == caller.sid,
            info: session.into(),
        })
        .collect();
    Ok(JsonResponse(SessionListBody { list }))
}

/// Ends one of the caller's sessions on every instance; another user's is 404.
#[utoipa::path(delete, path = "/user/sessions/{id}", tag = "account", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "revoked"),
        (status = 400, body = ProblemBody), (status = 401, body = ProblemBody), (status = 404, body = ProblemBody),
    ))]
pub async fn end(
    State(sessions): State<Arc<Sessions>>,
    Caller(caller): Caller,
    ClientOrigin(origin): ClientOrigin,
    Path(id): Path<Uuid>,
) -> Result<axum::http::StatusCode, Problem> {
    sessions.end(&caller, id, &origin).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// A passwordless sign-in's first step.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyChallengeBody {
    /// For `POST /login/passkey/finish`.
    hash: String,
    /// `PublicKeyCredentialRequestOptionsJSON` with no credential listed.
    #[schema(value_type = Object)]
    public_key: serde_json::Value,
}

/// Starts a passwordless sign-in with a discoverable passkey (no token).
#[utoipa::path(post, path = "/login/passkey", tag = "sessions", security(()),
    responses((status = 200, body = PasskeyChallengeBody), (status = 503, body = ProblemBody)))]
pub async fn passkey_start(
    State(login): State<Arc<PasskeyLogin>>,
) -> Result<JsonResponse<PasskeyChallengeBody>, Problem> {
    let (hash, public_key) = login.start().await?;
    Ok(JsonResponse(PasskeyChallengeBody { hash, public_key }))
}

#[derive(Deserialize, ToSchema)]
pub struct PasskeyFinishBody {
    hash: String,
    /// The `AuthenticationResponseJSON` (`credential.toJSON()`).
    #[schema(value_type = Object)]
    credential: serde_json::Value,
}

/// Finishes a passwordless sign-in: the passkey, user verified, is both factors.
#[utoipa::path(post, path = "/login/passkey/finish", tag = "sessions", request_body = PasskeyFinishBody,
    security(()),
    responses(
        (status = 200, body = CredentialBody),
        (status = 400, body = ProblemBody),
        (status = 401, body = ProblemBody, description = "invalid_credentials, invalid_hash"),
        (status = 403, body = ProblemBody, description = "email_not_verified"),
        (status = 429, body = ProblemBody, description = "rate_limited, with Retry-After"),
    ))]
pub async fn passkey_finish(
    State(login): State<Arc<PasskeyLogin>>,
    ClientOrigin(origin): ClientOrigin,
    Json(body): Json<PasskeyFinishBody>,
) -> Result<JsonResponse<CredentialBody>, Problem> {
    let credential = login.finish(&body.hash, &body.credential, &origin).await?;
    Ok(JsonResponse(credential.into()))
}
