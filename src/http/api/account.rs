//! The account as a whole: e-mail verification, deletion and export.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::identities::IdentityBody;
use super::openapi::{ProblemBody, ResultBody};
use super::sessions::SessionInfoBody;
use crate::domain::rfc3339;
use crate::http::extract::{Caller, ClientOrigin, Json, Path};
use crate::http::problem::Problem;
use crate::usecases::account_data::{AccountData, AccountExport};
use crate::usecases::verification::EmailVerification;

#[derive(Deserialize, ToSchema)]
pub struct VerifyBody {
    /// From the link `<public url>/user/verify?hash=...`.
    #[schema(value_type = String)]
    hash: SecretString,
}

/// Marks the address the link was sent to verified (no token needed).
#[utoipa::path(post, path = "/user/verify", tag = "account", request_body = VerifyBody, security(()),
    responses(
        (status = 200, body = ResultBody),
        (status = 400, body = ProblemBody),
        (status = 401, body = ProblemBody, description = "invalid_hash"),
    ))]
pub async fn verify(
    State(verification): State<Arc<EmailVerification>>,
    ClientOrigin(origin): ClientOrigin,
    Json(body): Json<VerifyBody>,
) -> Result<JsonResponse<ResultBody>, Problem> {
    verification.verify(&body.hash, &origin).await?;
    Ok(JsonResponse(ResultBody { result: true }))
}

/// Sends a new verification link (older ones stop working); nothing when already verified.
#[utoipa::path(post, path = "/user/verify/resend", tag = "account", security(("bearer" = [])),
    responses(
        (status = 202, body = ResultBody),
        (status = 401, body = ProblemBody),
        (status = 429, body = ProblemBody, description = "rate_limited, with Retry-After"),
    ))]
pub async fn resend(
    State(verification): State<Arc<EmailVerification>>,
    Caller(caller): Caller,
) -> Result<(StatusCode, JsonResponse<ResultBody>), Problem> {
    verification.resend(&caller).await?;
    Ok((StatusCode::ACCEPTED, JsonResponse(ResultBody { result: true })))
}

#[derive(Deserialize, ToSchema)]
pub struct DeleteBody {
    /// Required when the account has a password; one made through an upstream provider
    /// without one needs a recent sign-in instead.
    #[schema(value_type = String)]
    #[serde(default = "no_password")]
    password: SecretString,
}

fn no_password() -> SecretString {
    SecretString::from(String::new())
}

/// Deletes the caller's account and everything held about it; every session ends.
#[utoipa::path(delete, path = "/user/me", tag = "account", request_body = DeleteBody, security(("bearer" = [])),
    responses(
        (status = 204, description = "deleted"),
        (status = 400, body = ProblemBody),
        (status = 401, body = ProblemBody, description = "invalid_credentials"),
        (status = 409, body = ProblemBody, description = "sole_owner"),
    ))]
pub async fn delete_me(
    State(data): State<Arc<AccountData>>,
    Caller(caller): Caller,
    ClientOrigin(origin): ClientOrigin,
    Json(body): Json<DeleteBody>,
) -> Result<StatusCode, Problem> {
    data.delete_own(&caller, body.password, &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes another account (admins only).
#[utoipa::path(delete, path = "/user/{id}", tag = "account", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "deleted"),
        (status = 400, body = ProblemBody), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody),
        (status = 404, body = ProblemBody),
        (status = 409, body = ProblemBody, description = "sole_owner"),
    ))]
pub async fn delete_user(
    State(data): State<Arc<AccountData>>,
    Caller(caller): Caller,
    ClientOrigin(origin): ClientOrigin,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, Problem> {
    data.delete_other(&caller, id, &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Everything held about an account (`GET /user/me/export`). Every time is RFC 3339.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExportBody {
    profile: ExportedProfile,
    /// Second factors, without their secrets.
    factors: Vec<ExportedFactor>,
    memberships: Vec<ExportedMembership>,
    /// Live sessions, newest first.
    sessions: Vec<SessionInfoBody>,
    /// Security events about the account, newest first.
    #[schema(value_type = Vec<super::audit::EventBody>)]
    events: Vec<serde_json::Value>,
    /// Connected accounts at upstream providers.
    identities: Vec<IdentityBody>,
    exported_at: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExportedProfile {
    id: Uuid,
    name: String,
    email: String,
    email_verified: bool,
    phone: Option<String>,
    is_admin: bool,
    created_at: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExportedFactor {
    id: Uuid,
    /// `EMAIL`, `PHONE`, `GOOGLE_AUTHENTICATOR` or `PASSKEY`.
    strategy: &'static str,
    /// `sms` or `whatsapp`, for a phone factor.
    channel: Option<&'static str>,
    enabled: bool,
    created_at: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExportedMembership {
    organization_id: Uuid,
    name: String,
    /// `owner`, `admin` or `member`.
    role: &'static str,
}

impl From<AccountExport> for ExportBody {
    fn from(export: AccountExport) -> Self {
        let time = |unix: i64| rfc3339(unix).unwrap_or_default();
        let AccountExport {
            profile,
            sessions,
            events,
            identities,
            exported_at,
        } = export;
        let user = &profile.user;
        Self {
            profile: ExportedProfile {
                id: user.id,
                name: user.name.clone(),
                email: user.email.as_str().to_owned(),
                email_verified: user.email_verified,
                phone: user.phone.clone(),
                is_admin: user.is_admin,
                created_at: time(user.created_at.unix_timestamp()),
            },
            factors: profile
                .factors
                .iter()
                .map(|f| ExportedFactor {
                    id: f.id,
                    strategy: f.strategy.as_str(),
                    channel: f.channel.map(|c| c.as_str()),
                    enabled: f.enabled,
                    created_at: time(f.created_at),
                })
                .collect(),
            memberships: profile
                .organizations
                .iter()
                .map(|(organization, role)| ExportedMembership {
                    organization_id: organization.id,
                    name: organization.name.clone(),
                    role: role.as_str(),
                })
                .collect(),
            sessions: sessions.into_iter().map(SessionInfoBody::from).collect(),
            events: events.iter().map(|event| event.to_document()).collect(),
            identities: identities.into_iter().map(IdentityBody::from).collect(),
            exported_at: time(exported_at),
        }
    }
}

/// Everything held about the caller: profile, factors (no secrets), memberships, sessions
/// and events.
#[utoipa::path(get, path = "/user/me/export", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = ExportBody), (status = 401, body = ProblemBody)))]
pub async fn export(
    State(data): State<Arc<AccountData>>,
    Caller(caller): Caller,
) -> Result<JsonResponse<ExportBody>, Problem> {
    Ok(JsonResponse(data.export(&caller).await?.into()))
}
