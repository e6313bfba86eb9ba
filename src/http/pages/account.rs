//! The account page: the profile, factors, recovery codes, live sessions, recent events,
//! and the forms that change them (profile, password, verification link, sign out a
//! session, delete the account). Enrolling factors is in `factors.rs`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::browser::{signed_in_or_return, Browser, Submitted};
use super::messages::Message;
use crate::domain::events::{EventKind, SecurityEvent};
use crate::domain::mfa::{Factor, Strategy};
use crate::domain::rfc3339;
use crate::domain::session::SessionInfo;
use crate::domain::token::Claims;
use crate::domain::AuthError;
use crate::http::extract::{Path, Query};
use crate::usecases::account_data::AccountData;
use crate::usecases::accounts::{Accounts, ProfileChange};
use crate::usecases::clients::OAuthClients;
use crate::usecases::login::{Confirmation, Login};
use crate::usecases::overview::{AccountOverview, Overview};
use crate::usecases::passwords::Passwords;
use crate::usecases::sessions::Sessions;
use crate::usecases::verification::EmailVerification;

/// `?done=`: which change the page confirms (a fixed list, so nothing is reflected).
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

fn confirmation(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "profile" => "Your profile is saved.",
        "password" => "Your password is changed. Your other sessions have ended.",
        "verification" => "A new verification link is on its way.",
        "factor_added" => "The second factor is on. You will be asked for it when you sign in.",
        "factor_removed" => "The factor is removed.",
        "confirmed" => "Thank you. For the next few minutes you can remove factors and change your e-mail address.",
        "session_ended" => "That session is signed out.",
        "consent_withdrawn" => "The application's access is withdrawn; its sessions have ended.",
        "connected" => "The account at the other provider is connected: you can sign in with it.",
        "disconnected" => "The account at the other provider is disconnected.",
        _ => return None,
    })
}

pub async fn page(
    browser: Browser,
    State(overview): State<Arc<AccountOverview>>,
    Query(done): Query<Done>,
) -> Response {
    let claims = signed_in_or_return!(browser);
    let notice = confirmation(done.done.as_deref());
    show(browser, &overview, &claims, notice, None).await
}

/// The account page, with a confirmation or a refusal.
pub(super) async fn show(
    browser: Browser,
    overview: &AccountOverview,
    claims: &Claims,
    notice: Option<&str>,
    error: Option<Message>,
) -> Response {
    match overview.of(claims).await {
        Ok(account) => {
            let status = error.as_ref().map_or(StatusCode::OK, |m| m.status);
            let values = view(&account, claims, &browser.pages.brand.name);
            browser.page(status, "account.html", context! { notice, error, ..values })
        }
        Err(err) => {
            let message = Message::from(err);
            browser.message("Account unavailable", message, ("/ui/account", "Try again"))
        }
    }
}

#[derive(Serialize)]
struct FactorView {
    id: Uuid,
    label: String,
    enabled: bool,
    added: String,
}

#[derive(Serialize)]
struct SessionView {
    id: Uuid,
    device: String,
    ip: String,
    signed_in: String,
    last_used: String,
    current: bool,
}

#[derive(Serialize)]
struct EventView {
    what: &'static str,
    at: String,
    ip: String,
}

fn view(account: &Overview, claims: &Claims, brand: &str) -> minijinja::Value {
    let user = &account.profile.user;
    let factors: Vec<FactorView> = account
        .profile
        .factors
        .iter()
        .filter(|f| f.strategy != Strategy::RecoveryCode)
        .map(factor_view)
        .collect();
    let has_recovery_codes = account
        .profile
        .factors
        .iter()
        .any(|f| f.strategy == Strategy::RecoveryCode && f.enabled);
    let sessions: Vec<SessionView> = account.sessions.iter().map(|s| session_view(s, claims)).collect();
    let events: Vec<EventView> = account.events.iter().map(event_view).collect();
    let consents: Vec<minijinja::Value> = account
        .consents
        .iter()
        .map(|c| context! { client_id => c.client_id, name => c.client_name, scope => c.scope, since => when(c.granted_at) })
        .collect();
    let organizations: Vec<String> = account
        .profile
        .organizations
        .iter()
        .map(|(org, role)| format!("{} ({})", org.name, role.as_str()))
        .collect();
    context! {
        title => format!("Your {brand} account"),
        name => user.name,
        email => user.email.as_str(),
        email_verified => user.email_verified,
        phone => user.phone.clone().unwrap_or_default(),
        factors,
        has_recovery_codes,
        sessions,
        events,
        organizations,
        consents,
        identities => super::upstream::identities_view(&account.identities),
    }
}

fn factor_view(factor: &Factor) -> FactorView {
    let label = match (factor.strategy, factor.channel) {
        (Strategy::Email, _) => "Codes by e-mail".to_owned(),
        (Strategy::Phone, Some(channel)) if channel.as_str() == "whatsapp" => "Codes by WhatsApp".to_owned(),
        (Strategy::Phone, _) => "Codes by text message".to_owned(),
        (Strategy::Totp, _) => "Authenticator app".to_owned(),
        (Strategy::Passkey, _) => format!("Passkey “{}”", factor.name.as_deref().unwrap_or("passkey")),
        (Strategy::RecoveryCode, _) => "Recovery codes".to_owned(),
    };
    FactorView {
        id: factor.id,
        label,
        enabled: factor.enabled,
        added: when(factor.created_at),
    }
}

fn session_view(session: &SessionInfo, claims: &Claims) -> SessionView {
    SessionView {
        id: session.id,
        device: session
            .user_agent
            .clone()
            .unwrap_or_else(|| "Unknown device".to_owned()),
        ip: session.ip.clone().unwrap_or_default(),
        signed_in: when(session.created_at),
        last_used: when(session.last_used_at),
        current: session.id == claims.sid,
    }
}

fn event_view(event: &SecurityEvent) -> EventView {
    EventView {
        what: describe(event.kind),
        at: when(event.at),
        ip: event.origin.as_ref().map(|o| o.ip.to_string()).unwrap_or_default(),
    }
}

/// An event as a person reads it.
fn describe(kind: EventKind) -> &'static str {
    match kind {
        EventKind::UserCreated => "Account created",
        EventKind::UserUpdated => "Profile changed",
        EventKind::UserDeleted => "Account deleted",
        EventKind::EmailVerified => "E-mail address verified",
        EventKind::LoginSucceeded => "Signed in",
        EventKind::LoginFailed => "Failed sign-in",
        EventKind::MfaFailed => "Failed second factor",
        EventKind::MfaFactorAdded => "Second factor added",
        EventKind::MfaFactorRemoved => "Second factor removed",
        EventKind::RecoveryCodesCreated => "New recovery codes",
        EventKind::PasswordChanged => "Password changed",
        EventKind::PasswordReset => "Password reset by e-mail",
        EventKind::SessionRevoked => "Signed out",
        EventKind::SessionReuseDetected => "A stolen token was refused; that session ended",
        EventKind::OrganizationMemberAdded => "Added to an organization",
        EventKind::OrganizationMemberRemoved => "Removed from an organization",
        EventKind::IdentityLinked => "Account at another provider connected",
        EventKind::IdentityUnlinked => "Account at another provider disconnected",
    }
}

/// A moment as the page shows it: `2026-12-02 10:04 UTC`.
pub(super) fn when(unix: i64) -> String {
    rfc3339(unix)
        .map(|text| format!("{} UTC", text.get(..16).unwrap_or(&text).replace('T', " ")))
        .unwrap_or_default()
}

#[derive(Deserialize)]
pub struct ProfileForm {
    name: String,
    email: String,
    #[serde(default)]
    phone: String,
}

pub async fn save_profile(
    browser: Browser,
    State(accounts): State<Arc<Accounts>>,
    State(overview): State<Arc<AccountOverview>>,
    Submitted(form): Submitted<ProfileForm>,
) -> Response {
    let claims = signed_in_or_return!(browser);
    let change = ProfileChange {
        user_id: None,
        name: Some(form.name),
        email: Some(form.email),
        phone: Some(form.phone.trim().to_owned()).filter(|p| !p.is_empty()),
    };
    match accounts.update_profile(&claims, change, &browser.origin).await {
        Ok(()) => browser.redirect("/ui/account?done=profile"),
        Err(err) => show(browser, &overview, &claims, None, Some(Message::from(err))).await,
    }
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    confirm_password: SecretString,
}

/// The inline confirmation a sensitive change asks for (see `POST /login/confirm`).
pub async fn confirm(
    browser: Browser,
    State(login): State<Arc<Login>>,
    State(overview): State<Arc<AccountOverview>>,
    Submitted(form): Submitted<ConfirmForm>,
) -> Response {
    let claims = signed_in_or_return!(browser);
    match login
        .confirm(&claims, Confirmation::Password(form.confirm_password), &browser.origin)
        .await
    {
        Ok(()) => browser.redirect("/ui/account?done=confirmed"),
        Err(AuthError::InvalidCredentials) => {
            let message = Message {
                field: Some("confirm_password"),
                text: "That is not your password.".into(),
                status: StatusCode::UNAUTHORIZED,
            };
            show(browser, &overview, &claims, None, Some(message)).await
        }
        Err(err) => show(browser, &overview, &claims, None, Some(Message::from(err))).await,
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: SecretString,
    password: SecretString,
}

pub async fn change_password(
    browser: Browser,
    State(passwords): State<Arc<Passwords>>,
    State(overview): State<Arc<AccountOverview>>,
    Submitted(form): Submitted<PasswordForm>,
) -> Response {
    let claims = signed_in_or_return!(browser);
    match passwords
        .change(&claims, form.current_password, form.password, &browser.origin)
        .await
    {
        Ok(()) => browser.redirect("/ui/account?done=password"),
        Err(err) => {
            let mut message = Message::from(err);
            if message.field.is_none() && message.status == StatusCode::UNAUTHORIZED {
                message = Message {
                    field: Some("current_password"),
                    text: "Your current password is not right.".to_owned(),
                    ..message
                };
            }
            show(browser, &overview, &claims, None, Some(message)).await
        }
    }
}

pub async fn resend_verification(
    browser: Browser,
    State(verification): State<Arc<EmailVerification>>,
    State(overview): State<Arc<AccountOverview>>,
    Submitted(_): Submitted<serde::de::IgnoredAny>,
) -> Response {
    let claims = signed_in_or_return!(browser);
    match verification.resend(&claims).await {
        Ok(()) => browser.redirect("/ui/account?done=verification"),
        Err(err) => show(browser, &overview, &claims, None, Some(Message::from(err))).await,
    }
}

pub async fn end_session(
    mut browser: Browser,
    State(sessions): State<Arc<Sessions>>,
    State(overview): State<Arc<AccountOverview>>,
    Path(id): Path<Uuid>,
    Submitted(_): Submitted<serde::de::IgnoredAny>,
) -> Response {
    let claims = signed_in_or_return!(browser);
    match sessions.end(&claims, id, &browser.origin).await {
        Ok(()) if id == claims.sid => {
            browser.end_session();
            browser.redirect("/ui/login")
        }
        Ok(()) => browser.redirect("/ui/account?done=session_ended"),
        Err(err) => show(browser, &overview, &claims, None, Some(Message::from(err))).await,
    }
}

pub async fn withdraw_consent(
    browser: Browser,
    State(clients): State<Arc<OAuthClients>>,
    State(overview): State<Arc<AccountOverview>>,
    Path(client_id): Path<String>,
    Submitted(_): Submitted<serde::de::IgnoredAny>,
) -> Response {
    let claims = signed_in_or_return!(browser);
    match clients.withdraw_consent(&claims, &client_id).await {
        Ok(()) => browser.redirect("/ui/account?done=consent_withdrawn"),
        Err(err) => show(browser, &overview, &claims, None, Some(Message::from(err))).await,
    }
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(rename = "delete_password")]
    password: SecretString,
}

pub async fn delete_account(
    mut browser: Browser,
    State(data): State<Arc<AccountData>>,
    State(overview): State<Arc<AccountOverview>>,
    Submitted(form): Submitted<DeleteForm>,
) -> Response {
    let claims = signed_in_or_return!(browser);
    match data.delete_own(&claims, form.password, &browser.origin).await {
        Ok(()) => {
            browser.end_session();
            let message = Message::general(StatusCode::OK, "Your account and everything it held are deleted.");
            browser.message("Account deleted", message, ("/ui/signup", "Create a new account"))
        }
        Err(err) => {
            let mut message = Message::from(err);
            if message.status == StatusCode::UNAUTHORIZED {
                message.text = "That password is not right.".to_owned();
            }
            if message.status == StatusCode::UNAUTHORIZED || message.field == Some("password") {
                message.field = Some("delete_password");
            }
            show(browser, &overview, &claims, None, Some(message)).await
        }
    }
}
