//! The one place errors become HTTP answers: RFC 9457 problem+json with a stable `code`.

use std::time::Duration;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http_api_problem::HttpApiProblem;

use crate::domain::upstream::UpstreamRefusal;
use crate::domain::AuthError;

/// An error answer. Handlers return it; `?` turns an [`AuthError`] into one.
#[derive(Debug)]
pub struct Problem {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
    retry_after: Option<Duration>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            title,
            detail: detail.into(),
            retry_after: None,
        }
    }

    fn retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<AuthError> for Problem {
    fn from(err: AuthError) -> Self {
        use StatusCode as S;
        let detail = err.to_string();
        match err {
            AuthError::Validation { .. } => Problem::new(S::BAD_REQUEST, "validation_failed", "Invalid input", detail),
            AuthError::WeakPassword { .. } => {
                Problem::new(S::BAD_REQUEST, "weak_password", "Password too weak", detail)
            }
            AuthError::InvalidCredentials => {
                Problem::new(S::UNAUTHORIZED, "invalid_credentials", "Invalid credentials", detail)
            }
            AuthError::InvalidToken => Problem::new(S::UNAUTHORIZED, "invalid_token", "Invalid token", detail),
            AuthError::TokenReused => Problem::new(S::UNAUTHORIZED, "token_reused", "Token reused", detail),
            AuthError::TokenMismatch => Problem::new(S::UNAUTHORIZED, "token_mismatch", "Token mismatch", detail),
            AuthError::Forbidden(_) => Problem::new(S::FORBIDDEN, "forbidden", "Forbidden", detail),
            AuthError::NotFound(_) => Problem::new(S::NOT_FOUND, "not_found", "Not found", detail),
            AuthError::EmailTaken => Problem::new(S::CONFLICT, "email_taken", "Email taken", detail),
            AuthError::AlreadyMember => Problem::new(S::CONFLICT, "already_member", "Already a member", detail),
            AuthError::CyclicRelationship => {
                Problem::new(S::CONFLICT, "cyclic_relationship", "Cyclic relationship", detail)
            }
            AuthError::BreachedPassword => {
                Problem::new(S::BAD_REQUEST, "breached_password", "Breached password", detail)
            }
            AuthError::EmailNotVerified => {
                Problem::new(S::FORBIDDEN, "email_not_verified", "E-mail not verified", detail)
            }
            AuthError::AccountDisabled => Problem::new(S::FORBIDDEN, "account_disabled", "Account disabled", detail),
            AuthError::ResourceTaken => Problem::new(S::CONFLICT, "resource_taken", "Resource taken", detail),
            AuthError::ReauthenticationRequired => Problem::new(
                S::FORBIDDEN,
                "reauthentication_required",
                "Reauthentication required",
                detail,
            ),
            AuthError::SoleOwner => Problem::new(S::CONFLICT, "sole_owner", "Sole owner", detail),
            AuthError::LastOwner => Problem::new(S::CONFLICT, "last_owner", "Last owner", detail),
            AuthError::InvalidCode => Problem::new(S::UNAUTHORIZED, "invalid_code", "Invalid code", detail),
            AuthError::InvalidPasskey => Problem::new(S::UNAUTHORIZED, "invalid_passkey", "Invalid passkey", detail),
            AuthError::InvalidHash => Problem::new(S::UNAUTHORIZED, "invalid_hash", "Invalid hash", detail),
            AuthError::StrategyNotListed => {
                Problem::new(S::BAD_REQUEST, "strategy_not_listed", "Strategy not offered", detail)
            }
            AuthError::PhoneRequired => Problem::new(S::BAD_REQUEST, "phone_required", "Phone required", detail),
            AuthError::FactorExists => Problem::new(S::CONFLICT, "factor_exists", "Factor exists", detail),
            AuthError::NoValidatedFactor => {
                Problem::new(S::BAD_REQUEST, "no_validated_factor", "No validated factor", detail)
            }
            AuthError::RateLimited { retry_after } => {
                Problem::new(S::TOO_MANY_REQUESTS, "rate_limited", "Too many requests", detail).retry_after(retry_after)
            }
            AuthError::Overloaded => Problem::new(S::SERVICE_UNAVAILABLE, "overloaded", "Server busy", detail)
                .retry_after(Duration::from_secs(1)),
            AuthError::LastCredential => Problem::new(S::CONFLICT, "last_credential", "Last credential", detail),
            AuthError::Upstream(refusal) => {
                let status = match refusal {
                    UpstreamRefusal::Denied | UpstreamRefusal::NoAccount => S::FORBIDDEN,
                    // A provider that is down is not this server's failure: never a 5xx.
                    UpstreamRefusal::Unreachable => S::FAILED_DEPENDENCY,
                    UpstreamRefusal::LinkedElsewhere => S::CONFLICT,
                    UpstreamRefusal::BadState | UpstreamRefusal::BadAnswer | UpstreamRefusal::NoEmail => S::BAD_REQUEST,
                };
                Problem::new(status, refusal.reason(), "Upstream sign-in refused", detail)
            }
            AuthError::Unavailable(_) => {
                Problem::new(S::SERVICE_UNAVAILABLE, "unavailable", "Dependency unavailable", detail)
                    .retry_after(Duration::from_secs(5))
            }
        }
    }
}

impl From<PathRejection> for Problem {
    fn from(rejection: PathRejection) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "Invalid input",
            rejection.body_text(),
        )
    }
}

impl From<QueryRejection> for Problem {
    fn from(rejection: QueryRejection) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "Invalid input",
            rejection.body_text(),
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = HttpApiProblem::new(self.status)
            .type_url("about:blank")
            .title(self.title)
            .detail(self.detail)
            .value("code", &self.code)
            .into_response();
        let headers = response.headers_mut();
        if let Some(wait) = self.retry_after {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// 404 for a path no route serves.
pub async fn unknown_route() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not_found", "Not found", "no such route")
}

/// 405 for a known path with a method it does not serve.
pub async fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method not allowed",
        "this route does not serve that method",
    )
}
