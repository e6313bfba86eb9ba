//! Second factors on the account page: enrol one (a code by e-mail, SMS or WhatsApp; an
//! authenticator app, whose QR code and secret the page shows; a passkey), confirm it with
//! its first code or the passkey's answer, remove one, and make a new set of recovery codes.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use uuid::Uuid;

use super::account::show;
use super::browser::{signed_in_or_return, Browser, Submitted};
use super::messages::Message;
use crate::domain::mfa::Strategy;
use crate::domain::AuthError;
use crate::http::extract::Path;
use crate::usecases::mfa::enrolment::{EnrolledFactor, Enrolment};
use crate::usecases::mfa::recovery::RecoveryCodes;
use crate::usecases::overview::AccountOverview;

#[derive(Deserialize)]
pub struct EnrolForm {
    strategy: String,
    channel: Option<String>,
    name: Option<String>,
}

pub async fn enrol(
    browser: Browser,
    State(enrolment): State<Arc<Enrolment>>,
    State(overview): State<Arc<AccountOverview>>,
    Submitted(form): Submitted<EnrolForm>,
) -> Response {
    let claims = signed_in_or_return!(browser);
    let name = form.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let channel = form.channel.as_deref().filter(|c| !c.is_empty());
    match enrolment
        .enrol_factor(&claims, &form.strategy, channel, None, name)
        .await
    {
        Ok(enrolled) => confirm_page(browser, &enrolled, None),
        Err(err) => show(browser, &overview, &claims, None, Some(Message::from(err))).await,
    }
}

/// The page that finishes an enrolment: the code field (with the QR code for an
/// authenticator app) or the passkey button.
fn confirm_page(browser: Browser, enrolled: &EnrolledFactor, error: Option<Message>) -> Response {
    let totp = enrolled.totp.as_ref().map(|t| {
        context! {
            secret => t.secret_base32.expose_secret(),
            qr_code => t.qr_code.expose_secret(),
            uri => t.otpauth_uri.expose_secret(),
        }
    });
    let values = context! {
        id => enrolled.factor_id,
        strategy => enrolled.strategy.as_str(),
        totp,
        options => enrolled.public_key.as_ref().map(|o| o.to_string()),
    };
    confirm_form(browser, values, error)
}

fn confirm_form(browser: Browser, values: minijinja::Value, error: Option<Message>) -> Response {
    let status = error.as_ref().map_or(StatusCode::OK, |m| m.status);
    browser.page(status, "enrol.html", context! { error, ..values })
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    id: Uuid,
    strategy: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    credential: String,
}

pub async fn confirm(
    browser: Browser,
    State(enrolment): State<Arc<Enrolment>>,
    Submitted(form): Submitted<ConfirmForm>,
) -> Response {
    let claims = signed_in_or_return!(browser);
    let origin = browser.origin.clone();
    let passkey = Strategy::parse(&form.strategy).is_ok_and(|s| s == Strategy::Passkey);
    let result = match passkey {
        true => match serde_json::from_str::<serde_json::Value>(&form.credential) {
            Ok(credential) => enrolment.validate_passkey(&claims, form.id, &credential, &origin).await,
            Err(_) => Err(AuthError::InvalidPasskey),
        },
        false => {
            let code = SecretString::from(form.code.trim().to_owned());
            enrolment.validate_factor(&claims, form.id, &code, &origin).await
        }
    };
    match result {
        Ok(()) => browser.redirect("/ui/account?done=factor_added"),
        Err(AuthError::InvalidPasskey) if passkey => {
            let message = Message::from(AuthError::InvalidPasskey);
            let text = format!("{} Start again from your account page.", message.text);
            browser.message(
                "Passkey not added",
                Message { text, ..message },
                ("/ui/account", "Back"),
            )
        }
        Err(err) => {
            let values = context! { id => form.id, strategy => form.strategy, retry => true };
            confirm_form(browser, values, Some(Message::from(err)))
        }
    }
}

pub async fn remove(
    browser: Browser,
    State(enrolment): State<Arc<Enrolment>>,
    State(overview): State<Arc<AccountOverview>>,
    Path(id): Path<Uuid>,
    Submitted(_): Submitted<serde::de::IgnoredAny>,
) -> Response {
    let claims = signed_in_or_return!(browser);
    match enrolment.delete_factor(&claims, id, &browser.origin).await {
        Ok(()) => browser.redirect("/ui/account?done=factor_removed"),
        Err(err) => show(browser, &overview, &claims, None, Some(Message::from(err))).await,
    }
}

pub async fn new_recovery_codes(
    browser: Browser,
    State(recovery): State<Arc<RecoveryCodes>>,
    State(overview): State<Arc<AccountOverview>>,
    Submitted(_): Submitted<serde::de::IgnoredAny>,
) -> Response {
    let claims = signed_in_or_return!(browser);
    match recovery.new_set(&claims, &browser.origin).await {
        Ok(codes) => {
            let codes: Vec<&str> = codes.iter().map(|c| c.expose_secret()).collect();
            browser.page(StatusCode::CREATED, "recovery_codes.html", context! { codes })
        }
        Err(err) => show(browser, &overview, &claims, None, Some(Message::from(err))).await,
    }
}
