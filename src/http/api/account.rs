//! The account as a whole: e-mail verification, deletion and export.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::openapi::{ProblemBody, ResultBody};
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
    #[schema(value_type = String)]
    password: SecretString,
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

/// Everything held about the caller: profile, factors (no secrets), memberships, sessions
/// and events. Every time is RFC 3339.
#[utoipa::path(get, path = "/user/me/export", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401, body = ProblemBody)))]
pub async fn export(
    State(data): State<Arc<AccountData>>,
    Caller(caller): Caller,
) -> Result<JsonResponse<serde_json::Value>, Problem> {
    let AccountExport {
        profile,
        sessions,
        events,
        exported_at,
    } = data.export(&caller).await?;
    let user = &profile.user;
    Ok(JsonResponse(json!({
        "profile": {
            "id": user.id,
            "name": user.name,
            "email": user.email.as_str(),
            "emailVerified": user.email_verified,
            "phone": user.phone,
            "isAdmin": user.is_admin,
            "createdAt": rfc3339(user.created_at.unix_timestamp()),
        },
        "factors": profile.factors.iter().map(|f| json!({
            "id": f.id,
            "strategy": f.strategy.as_str(),
            "channel": f.channel.map(|c| c.as_str()),
            "enabled": f.enabled,
            "createdAt": rfc3339(f.created_at),
        })).collect::<Vec<_>>(),
        "memberships": profile.organizations.iter().map(|(organization, role)| json!({
            "organizationId": organization.id,
            "name": organization.name,
            "role": role.as_str(),
        })).collect::<Vec<_>>(),
        "sessions": sessions.iter().map(|s| json!({
            "id": s.id,
            "createdAt": rfc3339(s.created_at),
            "lastUsedAt": rfc3339(s.last_used_at),
            "expiresAt": rfc3339(s.expires_at),
            "userAgent": s.user_agent,
            "ip": s.ip,
        })).collect::<Vec<_>>(),
        "events": events.iter().map(|event| event.to_document()).collect::<Vec<_>>(),
        "exportedAt": rfc3339(exported_at),
    })))
}
