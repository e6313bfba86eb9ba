//! A forgotten password and the pages e-mailed links open: ask for a reset link, choose a
//! new password from it, and see an address verified.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use super::browser::{Browser, Submitted};
use super::messages::Message;
use crate::domain::AuthError;
use crate::http::extract::Query;
use crate::usecases::passwords::Passwords;
use crate::usecases::verification::EmailVerification;

pub async fn forgot_page(browser: Browser) -> Response {
    browser.page(StatusCode::OK, "forgot.html", context! {})
}

#[derive(Deserialize)]
pub struct ForgotForm {
    email: String,
}

pub async fn forgot(
    browser: Browser,
    State(passwords): State<Arc<Passwords>>,
    Submitted(form): Submitted<ForgotForm>,
) -> Response {
    match passwords.request_reset(&form.email, &browser.origin).await {
        Ok(()) => {
            let text = format!(
                "If an account uses {}, a link to choose a new password is on its way. It works for a short while.",
                form.email.trim()
            );
            let message = Message::general(StatusCode::OK, text);
            browser.message("Check your e-mail", message, ("/ui/login", "Back to sign-in"))
        }
        Err(err) => {
            let message = Message::from(err);
            let values = context! { email => form.email, error => &message };
            browser.page(message.status, "forgot.html", values)
        }
    }
}

/// `?hash=` of an e-mailed link.
#[derive(Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    hash: String,
}

pub async fn recover_page(browser: Browser, Query(query): Query<LinkQuery>) -> Response {
    if query.hash.is_empty() {
        return expired_link(browser, NEW_RESET_LINK);
    }
    browser.page(StatusCode::OK, "recover.html", context! { hash => query.hash })
}

#[derive(Deserialize)]
pub struct RecoverForm {
    hash: String,
    password: SecretString,
    confirm: SecretString,
}

pub async fn recover(
    mut browser: Browser,
    State(passwords): State<Arc<Passwords>>,
    Submitted(form): Submitted<RecoverForm>,
) -> Response {
    let again = |browser: Browser, message: Message, hash: &str| {
        let values = context! { hash, error => &message };
        browser.page(message.status, "recover.html", values)
    };
    if form.password.expose_secret() != form.confirm.expose_secret() {
        let message = Message {
            field: Some("confirm"),
            text: "The two passwords differ. Type the same one twice.".to_owned(),
            status: StatusCode::BAD_REQUEST,
        };
        return again(browser, message, &form.hash);
    }
    let hash = SecretString::from(form.hash.clone());
    match passwords.recover(&hash, form.password, &browser.origin).await {
        Ok(()) => {
            browser.end_session();
            let message = Message::general(
                StatusCode::OK,
                "Your password is changed, and every session of the account has ended.",
            );
            browser.message("Password changed", message, ("/ui/login", "Sign in"))
        }
        Err(AuthError::InvalidHash) => expired_link(browser, NEW_RESET_LINK),
        Err(err) => again(browser, Message::from(err), &form.hash),
    }
}

pub async fn verify_page(
    browser: Browser,
    State(verification): State<Arc<EmailVerification>>,
    Query(query): Query<LinkQuery>,
) -> Response {
    if query.hash.is_empty() {
        return expired_link(browser, NEW_VERIFICATION_LINK);
    }
    let hash = SecretString::from(query.hash);
    match verification.verify(&hash, &browser.origin).await {
        Ok(()) => {
            let message = Message::general(StatusCode::OK, "Your e-mail address is verified. Thank you.");
            browser.message("Address verified", message, ("/ui/account", "Go to your account"))
        }
        Err(AuthError::InvalidHash) => expired_link(browser, NEW_VERIFICATION_LINK),
        Err(err) => {
            let message = Message::from(err);
            browser.message("Not verified", message, ("/ui/account", "Go to your account"))
        }
    }
}

/// Where a person gets a new link of each kind.
const NEW_RESET_LINK: (&str, &str) = ("/ui/forgot", "Ask for a new link");
const NEW_VERIFICATION_LINK: (&str, &str) = ("/ui/account", "Send a new link from your account");

fn expired_link(browser: Browser, new_link: (&str, &str)) -> Response {
    let message = Message::general(
        StatusCode::BAD_REQUEST,
        "This link has expired or was used already. Ask for a new one.",
    );
    browser.message("Link not valid", message, new_link)
}
