//! `/password` routes and `PATCH /user/password`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::extract::{Caller, ClientIp, Json};
use crate::http::openapi::{ProblemBody, ResultBody};
use crate::http::problem::Problem;
use crate::usecases::Core;

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
    State(core): State<Arc<Core>>,
    ClientIp(client): ClientIp,
    Json(body): Json<ForgetBody>,
) -> Result<(StatusCode, JsonResponse<ResultBody>), Problem> {
    core.request_password_reset(&body.email, client).await?;
    Ok((StatusCode::ACCEPTED, JsonResponse(ResultBody { result: true })))
}

#[derive(Deserialize, ToSchema)]
pub struct RecoverBody {
    /// From the e-mailed link.
    hash: String,
    password: String,
}

/// Sets a new password with the e-mailed hash; every session of the user ends.
#[utoipa::path(post, path = "/password/recover", tag = "password", request_body = RecoverBody,
    responses(
        (status = 200, body = ResultBody),
        (status = 400, body = ProblemBody, description = "weak_password, validation_failed"),
        (status = 401, body = ProblemBody, description = "invalid_hash"),
    ))]
pub async fn recover(
    State(core): State<Arc<Core>>,
    Json(body): Json<RecoverBody>,
) -> Result<JsonResponse<ResultBody>, Problem> {
    core.recover_password(&body.hash, body.password).await?;
    Ok(JsonResponse(ResultBody { result: true }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeBody {
    current_password: String,
    new_password: String,
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
    State(core): State<Arc<Core>>,
    Caller(caller): Caller,
    ClientIp(client): ClientIp,
    Json(body): Json<ChangeBody>,
) -> Result<JsonResponse<ResultBody>, Problem> {
    core.change_password(&caller, body.current_password, body.new_password, client)
        .await?;
    Ok(JsonResponse(ResultBody { result: true }))
}
