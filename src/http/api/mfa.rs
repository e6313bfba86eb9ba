//! `/mfa` routes: enrolment, validation, recovery codes, and the MFA login steps.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::openapi::{ProblemBody, ResultBody};
use super::sessions::CredentialBody;
use crate::domain::mfa::Factor;
use crate::domain::mfa::FactorAnswer;
use crate::domain::AuthError;
use crate::http::extract::{Caller, ClientOrigin, Json, Path};
use crate::http::problem::Problem;
use crate::usecases::mfa::challenge::Challenges;
use crate::usecases::mfa::enrolment::Enrolment;
use crate::usecases::mfa::recovery::RecoveryCodes;

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnrolBody {
    /// `EMAIL`, `PHONE`, `GOOGLE_AUTHENTICATOR` (or `TOTP`), `PASSKEY`.
    strategy: String,
    /// For PHONE: `sms` (default) or `whatsapp`.
    channel: Option<String>,
    /// Another user (admins only).
    user_id: Option<Uuid>,
    /// For PASSKEY: how the passkey is listed (default `Passkey`).
    name: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnrolledBody {
    mfa_id: Uuid,
    strategy: &'static str,
    /// TOTP only: the seed, base32.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    otpauth_uri: Option<String>,
    /// TOTP only: `data:image/png;base64,...`
    #[serde(skip_serializing_if = "Option::is_none")]
    qr_code: Option<String>,
    /// PASSKEY only: `PublicKeyCredentialCreationOptionsJSON`, for
    /// `PublicKeyCredential.parseCreationOptionsFromJSON`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    public_key: Option<serde_json::Value>,
}

/// Enrols a factor, disabled until validated; EMAIL and PHONE send a code now.
#[utoipa::path(post, path = "/mfa", tag = "mfa", request_body = EnrolBody, security(("bearer" = [])),
    responses(
        (status = 201, body = EnrolledBody),
        (status = 400, body = ProblemBody, description = "validation_failed, phone_required"),
        (status = 401, body = ProblemBody), (status = 403, body = ProblemBody), (status = 404, body = ProblemBody),
        (status = 409, body = ProblemBody, description = "factor_exists"),
    ))]
pub async fn enrol(
    State(enrolment): State<Arc<Enrolment>>,
    Caller(caller): Caller,
    Json(body): Json<EnrolBody>,
) -> Result<(StatusCode, JsonResponse<EnrolledBody>), Problem> {
    let enrolled = enrolment
        .enrol_factor(
            &caller,
            &body.strategy,
            body.channel.as_deref(),
            body.user_id,
            body.name.as_deref(),
        )
        .await?;
    let totp = enrolled.totp;
    let shown = |secret: &SecretString| secret.expose_secret().to_owned();
    Ok((
        StatusCode::CREATED,
        JsonResponse(EnrolledBody {
            mfa_id: enrolled.factor_id,
            strategy: enrolled.strategy.as_str(),
            secret: totp.as_ref().map(|t| shown(&t.secret_base32)),
            otpauth_uri: totp.as_ref().map(|t| shown(&t.otpauth_uri)),
            qr_code: totp.as_ref().map(|t| shown(&t.qr_code)),
            public_key: enrolled.public_key,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ValidateBody {
    /// The `mfaId` from enrolment.
    id: Uuid,
    /// The code sent, or a current TOTP code.
    #[schema(value_type = Option<String>)]
    code: Option<SecretString>,
    /// PASSKEY: the `RegistrationResponseJSON` (`credential.toJSON()`).
    #[schema(value_type = Option<Object>)]
    credential: Option<serde_json::Value>,
}

/// The answer a body gives: a code or a WebAuthn response, exactly one of them.
fn answer(code: Option<SecretString>, credential: Option<serde_json::Value>) -> Result<FactorAnswer, Problem> {
    match (code, credential) {
        (Some(code), None) => Ok(FactorAnswer::Code(code)),
        (None, Some(credential)) if credential.is_object() => Ok(FactorAnswer::Passkey(credential)),
        (None, Some(_)) => Err(AuthError::invalid("credential", "must be a WebAuthn response object").into()),
        _ => Err(AuthError::invalid("code", "send either a code or a credential").into()),
    }
}

/// Enables a factor with the code sent, a current TOTP code, or a passkey's registration.
#[utoipa::path(post, path = "/mfa/validate", tag = "mfa", request_body = ValidateBody, security(("bearer" = [])),
    responses(
        (status = 200, body = ResultBody),
        (status = 400, body = ProblemBody), (status = 401, body = ProblemBody, description = "invalid_code, invalid_passkey"),
        (status = 403, body = ProblemBody), (status = 404, body = ProblemBody),
        (status = 409, body = ProblemBody, description = "factor_exists"),
        (status = 429, body = ProblemBody, description = "rate_limited, with Retry-After"),
    ))]
pub async fn validate(
    State(enrolment): State<Arc<Enrolment>>,
    Caller(caller): Caller,
    ClientOrigin(origin): ClientOrigin,
    Json(body): Json<ValidateBody>,
) -> Result<JsonResponse<ResultBody>, Problem> {
    match answer(body.code, body.credential)? {
        FactorAnswer::Code(code) => enrolment.validate_factor(&caller, body.id, &code, &origin).await?,
        FactorAnswer::Passkey(credential) => {
            enrolment
                .validate_passkey(&caller, body.id, &credential, &origin)
                .await?
        }
    }
    Ok(JsonResponse(ResultBody { result: true }))
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodesBody {
    /// Ten single-use codes, shown this once.
    codes: Vec<String>,
}

/// Makes a new set of recovery codes, replacing the old one.
#[utoipa::path(post, path = "/mfa/recovery", tag = "mfa", security(("bearer" = [])),
    responses(
        (status = 201, body = RecoveryCodesBody),
        (status = 400, body = ProblemBody, description = "no_validated_factor"),
        (status = 401, body = ProblemBody),
    ))]
pub async fn recovery(
    State(recovery): State<Arc<RecoveryCodes>>,
    Caller(caller): Caller,
    ClientOrigin(origin): ClientOrigin,
) -> Result<(StatusCode, JsonResponse<RecoveryCodesBody>), Problem> {
    let codes = recovery
        .new_set(&caller, &origin)
        .await?
        .iter()
        .map(|code| code.expose_secret().to_owned())
        .collect();
    Ok((StatusCode::CREATED, JsonResponse(RecoveryCodesBody { codes })))
}

/// One factor, as listed.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FactorBody {
    id: Uuid,
    strategy: &'static str,
    channel: Option<&'static str>,
    enabled: bool,
    created_at: String,
    /// PASSKEY only: the name it was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

impl From<&Factor> for FactorBody {
    fn from(factor: &Factor) -> Self {
        Self {
            id: factor.id,
            strategy: factor.strategy.as_str(),
            channel: factor.channel.map(|c| c.as_str()),
            enabled: factor.enabled,
            created_at: OffsetDateTime::from_unix_timestamp(factor.created_at)
                .ok()
                .and_then(|t| t.format(&Rfc3339).ok())
                .unwrap_or_default(),
            name: factor.name.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct FactorListBody {
    list: Vec<FactorBody>,
}

/// The caller's factors.
#[utoipa::path(get, path = "/mfa", tag = "mfa", security(("bearer" = [])),
    responses((status = 200, body = FactorListBody), (status = 401, body = ProblemBody)))]
pub async fn list(
    State(enrolment): State<Arc<Enrolment>>,
    Caller(caller): Caller,
) -> Result<JsonResponse<FactorListBody>, Problem> {
    let factors = enrolment.factors(&caller).await?;
    Ok(JsonResponse(FactorListBody {
        list: factors.iter().map(FactorBody::from).collect(),
    }))
}

/// Removes one of the caller's factors; a validated one needs a recent sign-in or
/// `POST /login/confirm` (else 403 `reauthentication_required`).
#[utoipa::path(delete, path = "/mfa/{id}", tag = "mfa", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "removed"),
        (status = 400, body = ProblemBody), (status = 401, body = ProblemBody),
        (status = 403, body = ProblemBody, description = "reauthentication_required"),
        (status = 404, body = ProblemBody),
    ))]
pub async fn delete(
    State(enrolment): State<Arc<Enrolment>>,
    Caller(caller): Caller,
    ClientOrigin(origin): ClientOrigin,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, Problem> {
    enrolment.delete_factor(&caller, id, &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct ChooseBody {
    /// From `POST /login`.
    hash: String,
    strategy: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HashBody {
    /// For `POST /mfa/code`.
    hash: String,
    /// PASSKEY only: `PublicKeyCredentialRequestOptionsJSON`, for
    /// `PublicKeyCredential.parseRequestOptionsFromJSON`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    public_key: Option<serde_json::Value>,
}

/// Picks the strategy for this login; EMAIL and PHONE send a fresh code.
#[utoipa::path(post, path = "/mfa/choose", tag = "mfa", request_body = ChooseBody,
    responses(
        (status = 200, body = HashBody),
        (status = 400, body = ProblemBody, description = "strategy_not_listed, validation_failed"),
        (status = 401, body = ProblemBody, description = "invalid_hash"),
        (status = 429, body = ProblemBody, description = "rate_limited, with Retry-After"),
    ))]
pub async fn choose(
    State(challenges): State<Arc<Challenges>>,
    ClientOrigin(origin): ClientOrigin,
    Json(body): Json<ChooseBody>,
) -> Result<JsonResponse<HashBody>, Problem> {
    let step = challenges.choose_strategy(&body.hash, &body.strategy, &origin).await?;
    Ok(JsonResponse(HashBody {
        hash: step.hash,
        public_key: step.public_key,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct CodeBody {
    /// From `POST /mfa/choose`.
    hash: String,
    #[schema(value_type = Option<String>)]
    code: Option<SecretString>,
    /// PASSKEY: the `AuthenticationResponseJSON` (`credential.toJSON()`).
    #[schema(value_type = Option<Object>)]
    credential: Option<serde_json::Value>,
}

/// Finishes an MFA login with the code, or a passkey's assertion.
#[utoipa::path(post, path = "/mfa/code", tag = "mfa", request_body = CodeBody,
    responses(
        (status = 200, body = CredentialBody),
        (status = 400, body = ProblemBody),
        (status = 401, body = ProblemBody, description = "invalid_code, invalid_hash, invalid_passkey"),
        (status = 429, body = ProblemBody, description = "rate_limited, with Retry-After"),
    ))]
pub async fn code(
    State(challenges): State<Arc<Challenges>>,
    ClientOrigin(origin): ClientOrigin,
    Json(body): Json<CodeBody>,
) -> Result<JsonResponse<CredentialBody>, Problem> {
    let answer = answer(body.code, body.credential)?;
    let credential = challenges.submit_code(&body.hash, answer, &origin).await?;
    Ok(JsonResponse(credential.into()))
}
