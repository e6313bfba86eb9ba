//! `/password` routes and `PATCH /user/password`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;

use super::openapi::{ProblemBody, ResultBody};
use crate::http::extract::{Caller, ClientOrigin, Json};
use crate::http::problem::Problem;
use crate::usecases::passwords::Passwords;

#[derive(Deserialize, ToSchema)]
pub struct ForgetBody {
    email: String,
}

/// E-mails a reset link if the address has an account; the answer is the same either way.
#[utoipa::path(post, path = "/password/forget", tag = "password", request_body = ForgetBody,
    responses(
        (status = 202, body = ResultBody), (status = 400, body = ProblemBody),
        (status = 429, body = ProblemBody, description = "rate_limited, with Retry-After"),
    ))]
pub async fn forget(
    State(passwords): State<Arc<Passwords>>,
    ClientOrigin(origin): ClientOrigin,
    Json(body): Json<ForgetBody>,
) -> Result<(StatusCode, JsonResponse<ResultBody>), Problem> {
    passwords.request_reset(&body.email, &origin).await?;
    Ok((StatusCode::ACCEPTED, JsonResponse(ResultBody { result: true })))
}

#[derive(Deserialize, ToSchema)]
pub struct RecoverBody {
    /// From the e-mailed link.
    #[schema(value_type = String)]
    hash: SecretString,
    #[schema(value_type = String)]
    password: SecretString,
}

/// Sets a new password with the e-mailed hash; every session of the user ends.
#[utoipa::path(post, path = "/password/recover", tag = "password", request_body = RecoverBody,
    responses(
        (status = 200, body = ResultBody),
        (status = 400, body = ProblemBody, description = "weak_password, validation_failed"),
        (status = 401, body = ProblemBody, description = "invalid_hash"),
    ))]
pub async fn recover(
    State(passwords): State<Arc<Passwords>>,
    ClientOrigin(origin): ClientOrigin,
    Json(body): Json<RecoverBody>,
) -> Result<JsonResponse<ResultBody>, Problem> {
    passwords.recover(&body.hash, body.password, &origin).await?;
    Ok(JsonResponse(ResultBody { result: true }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeBody {
    #[schema(value_type = String)]
    current_password: SecretString,
    #[schema(value_type = String)]
    new_password: SecretString,
}

/// Changes the caller's password; the caller's other sessions end.
#[utoipa::path(patch, path = "/user/password", tag = "password", request_body = ChangeBody,
    security(("bearer" = [])),
    responses(
        (status = 200, body = ResultBody),
        (status = 400, body = ProblemBody, description = "weak_password, validation_failed"),
        (status = 401, body = ProblemBody, description = "invalid_credentials, invalid_token"),
        (status = 429, body = ProblemBody),
    ))]
pub async fn change(
    State(passwords): State<Arc<Passwords>>,
    Caller(caller): Caller,
    ClientOrigin(origin): ClientOrigin,
    Json(body): Json<ChangeBody>,
) -> Result<JsonResponse<ResultBody>, Problem> {
    passwords
        .change(&caller, body.current_password, body.new_password, &origin)
        .await?;
    Ok(JsonResponse(ResultBody { result: true }))
}
