//! What a refusal says on a page: words a person can act on, next to the field it concerns,
//! with the status the JSON API would answer. The API's problem mapping decides the status,
//! so the two front ends never disagree about what an error is.

use axum::http::StatusCode;
use serde::Serialize;

use crate::domain::upstream::UpstreamRefusal;
use crate::domain::AuthError;
use crate::http::problem::Problem;

/// A message shown on a page, next to `field` when it concerns one.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    /// The form field (its `name`) the message is about; `None`: the form as a whole.
    pub field: Option<&'static str>,
    pub text: String,
    #[serde(skip)]
    pub status: StatusCode,
}

impl Message {
    /// A message about the whole form.
    pub fn general(status: StatusCode, text: impl Into<String>) -> Self {
        Self {
            field: None,
            text: text.into(),
            status,
        }
    }
}

impl From<AuthError> for Message {
    fn from(err: AuthError) -> Self {
        let status = Problem::from(err.clone()).status();
        let (field, text) = match err {
            AuthError::Validation { field, reason } => (Some(form_field(field)), sentence(&reason)),
            AuthError::WeakPassword { .. } | AuthError::BreachedPassword => {
                (Some("password"), sentence(&err.to_string()))
            }
            AuthError::InvalidCredentials => (None, "The e-mail address or the password is wrong.".to_owned()),
            AuthError::EmailTaken => (
                Some("email"),
                "An account with this e-mail address exists already.".to_owned(),
            ),
            AuthError::InvalidCode => (
                Some("code"),
                "That code is not right. Check it and try again.".to_owned(),
            ),
            AuthError::InvalidPasskey => (None, "The passkey could not be verified. Try again.".to_owned()),
            AuthError::InvalidHash => (
                None,
                "This link or sign-in step has expired or was used already. Please start again.".to_owned(),
            ),
            AuthError::InvalidToken | AuthError::TokenReused => {
                (None, "Your session has ended. Please sign in again.".to_owned())
            }
            AuthError::RateLimited { retry_after } => (None, too_many(retry_after.as_secs())),
            AuthError::ReauthenticationRequired => (
                Some("confirm_password"),
                "For this change, confirm it is you: enter your password here, then try again.".to_owned(),
            ),
            AuthError::PhoneRequired => (Some("phone"), "Add a phone number to your profile first.".to_owned()),
            AuthError::Upstream(refusal) => (None, upstream_refusal(refusal).to_owned()),
            other => (None, sentence(&other.to_string())),
        };
        Self { field, text, status }
    }
}

/// What a refused upstream sign-in says on its page.
fn upstream_refusal(refusal: UpstreamRefusal) -> &'static str {
    match refusal {
        UpstreamRefusal::Denied => "The sign-in was cancelled or refused at the other provider. Nothing was changed.",
        UpstreamRefusal::Unreachable => {
            "The other provider cannot be reached right now. Try again in a moment, or sign in another way."
        }
        UpstreamRefusal::BadState => "This sign-in has expired or was used already. Please start again.",
        UpstreamRefusal::BadAnswer => {
            "The other provider's answer could not be verified, so nothing was changed. Please start again."
        }
        UpstreamRefusal::NoEmail => {
            "The other provider did not share a verified e-mail address, which an account here needs."
        }
        UpstreamRefusal::NoAccount => {
            "There is no account here for that sign-in, and new accounts cannot be made this way."
        }
        UpstreamRefusal::LinkedElsewhere => "That account at the other provider is connected to another account here.",
    }
}

/// The form field an API field name stands for (the forms use the API's names, in snake
/// case where they differ).
fn form_field(api_field: &'static str) -> &'static str {
    match api_field {
        "currentPassword" => "current_password",
        "newPassword" => "password",
        other => other,
    }
}

fn too_many(seconds: u64) -> String {
    let wait = match seconds {
        0..=59 => format!("{} seconds", seconds.max(1)),
        60..=3599 => format!("{} minutes", seconds.div_ceil(60)),
        _ => format!("{} hours", seconds.div_ceil(3600)),
    };
    format!("Too many attempts. Please wait {wait} and try again.")
}

/// `text` as a sentence: capitalised, ending in a full stop.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_validation_error_lands_next_to_its_field() {
        let message = Message::from(AuthError::invalid("email", "is not a valid e-mail address"));
        assert_eq!(message.field, Some("email"));
        assert_eq!(message.text, "Is not a valid e-mail address.");
        assert_eq!(message.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn the_api_names_of_password_fields_become_the_form_names() {
        let message = Message::from(AuthError::invalid("currentPassword", "is required"));
        assert_eq!(message.field, Some("current_password"));
    }

    #[test]
    fn a_throttled_attempt_says_how_long_to_wait() {
        let message = Message::from(AuthError::RateLimited {
            retry_after: Duration::from_secs(125),
        });
        assert_eq!(message.text, "Too many attempts. Please wait 3 minutes and try again.");
        assert_eq!(message.status, StatusCode::TOO_MANY_REQUESTS);
    }

    #[test]
    fn wrong_credentials_keep_the_status_of_the_api() {
        let message = Message::from(AuthError::InvalidCredentials);
        assert_eq!(message.status, StatusCode::UNAUTHORIZED);
        assert_eq!(message.field, None);
    }
}
