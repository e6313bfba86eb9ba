//! Signing up, signing in (password or passkey), the second-factor step, and signing out.
//! Each handler reads its form, calls one service, and answers with the next page or the
//! same form with the refusal next to its field.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::browser::{urlencode, Browser, Submitted};
use super::messages::Message;
use super::return_to::{destination, own_path};
use crate::domain::mfa::{FactorAnswer, Strategy};
use crate::domain::AuthError;
use crate::http::extract::Query;
use crate::usecases::accounts::{Accounts, SignUp};
use crate::usecases::login::{Login, LoginOutcome};
use crate::usecases::mfa::challenge::Challenges;
use crate::usecases::passkey_login::PasskeyLogin;
use crate::usecases::sessions::Sessions;
use crate::usecases::verification::EmailVerification;

/// `?return_to=`: where to go once signed in (own paths only).
#[derive(Deserialize)]
pub struct ReturnTo {
    return_to: Option<String>,
}

/// The `return_to` worth carrying through the next form (an unsafe one is dropped).
fn kept(return_to: &Option<String>) -> &str {
    return_to.as_deref().and_then(own_path).unwrap_or_default()
}

pub async fn signup_page(browser: Browser, Query(query): Query<ReturnTo>) -> Response {
    let values = context! { return_to => kept(&query.return_to) };
    browser.page(StatusCode::OK, "signup.html", values)
}

#[derive(Deserialize)]
pub struct SignUpForm {
    name: String,
    email: String,
    password: SecretString,
    #[serde(default)]
    phone: String,
    return_to: Option<String>,
}

pub async fn sign_up(
    browser: Browser,
    State(accounts): State<Arc<Accounts>>,
    State(verification): State<Arc<EmailVerification>>,
    Submitted(form): Submitted<SignUpForm>,
) -> Response {
    let request = SignUp {
        name: form.name.clone(),
        email: form.email.clone(),
        password: form.password,
        phone: Some(form.phone.trim().to_owned()).filter(|p| !p.is_empty()),
    };
    let return_to = kept(&form.return_to).to_owned();
    match accounts.sign_up(None, request, &browser.origin).await {
        Ok(_) => {
            let values = context! {
                email => form.email,
                link_sent => verification.sends_links(),
                return_to,
            };
            browser.page(StatusCode::CREATED, "signed_up.html", values)
        }
        Err(err) => {
            let message = Message::from(err);
            let values = context! {
                name => form.name, email => form.email, phone => form.phone, return_to, error => &message,
            };
            browser.page(message.status, "signup.html", values)
        }
    }
}

/// `GET /ui/login`: `force=1` (an application asked for a fresh sign-in) shows the form to
/// a signed-in browser too.
#[derive(Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
    force: Option<String>,
}

pub async fn login_page(browser: Browser, Query(query): Query<LoginQuery>) -> Response {
    if browser.session.is_some() && query.force.is_none() {
        let to = destination(query.return_to.as_deref()).to_owned();
        return browser.redirect(&to);
    }
    let values = context! { return_to => kept(&query.return_to) };
    browser.page(StatusCode::OK, "login.html", values)
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: SecretString,
    return_to: Option<String>,
}

pub async fn login(
    mut browser: Browser,
    State(login): State<Arc<Login>>,
    Submitted(form): Submitted<LoginForm>,
) -> Response {
    let return_to = kept(&form.return_to).to_owned();
    match login.login(&form.email, form.password, &browser.origin).await {
        Ok(LoginOutcome::Authenticated(credential)) => {
            browser.start_session(&credential);
            browser.redirect(destination(Some(&return_to)))
        }
        Ok(LoginOutcome::SecondFactorRequired { hash, strategies }) => {
            browser.set_pending(Pending::Choose { strategies, hash }.encode());
            browser.redirect(&format!("/ui/mfa?return_to={}", urlencode(&return_to)))
        }
        Err(err) => login_form_again(browser, Message::from(err), &form.email, &return_to),
    }
}

fn login_form_again(browser: Browser, message: Message, email: &str, return_to: &str) -> Response {
    let values = context! { email, return_to, error => &message };
    browser.page(message.status, "login.html", values)
}

#[derive(Deserialize)]
pub struct PasskeyForm {
    #[serde(default)]
    hash: String,
    #[serde(default)]
    credential: String,
    return_to: Option<String>,
}

pub async fn login_with_passkey(
    mut browser: Browser,
    State(passkeys): State<Arc<PasskeyLogin>>,
    Submitted(form): Submitted<PasskeyForm>,
) -> Response {
    let return_to = kept(&form.return_to).to_owned();
    let credential = match passkey_response(&form.credential) {
        Ok(credential) => credential,
        Err(message) => return login_form_again(browser, message, "", &return_to),
    };
    match passkeys.finish(&form.hash, &credential, &browser.origin).await {
        Ok(credential) => {
            browser.start_session(&credential);
            browser.redirect(destination(Some(&return_to)))
        }
        Err(err) => login_form_again(browser, Message::from(err), "", &return_to),
    }
}

/// The `credential` field a passkey form's script fills in, as JSON.
fn passkey_response(field: &str) -> Result<serde_json::Value, Message> {
    if field.is_empty() {
        return Err(Message::general(
            StatusCode::BAD_REQUEST,
            "Passkeys need JavaScript in this browser. Turn it on, or use another way.",
        ));
    }
    serde_json::from_str(field).map_err(|_| Message::from(AuthError::InvalidPasskey))
}

/// A sign-in between the password and the second factor, kept in a cookie between pages:
/// which step it is at and the hash of that step.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    /// The password was right; one of `strategies` is to be chosen.
    Choose { strategies: Vec<Strategy>, hash: String },
    /// `strategy` was chosen; its code (or passkey) is awaited.
    Answer { strategy: Strategy, hash: String },
}

impl Pending {
    /// `choose.EMAIL+PHONE.<hash>` or `answer.EMAIL.<hash>` (cookie-safe characters only).
    fn encode(&self) -> String {
        match self {
            Pending::Choose { strategies, hash } => {
                let names: Vec<&str> = strategies.iter().map(|s| s.as_str()).collect();
                format!("choose.{}.{hash}", names.join("+"))
            }
            Pending::Answer { strategy, hash } => format!("answer.{}.{hash}", strategy.as_str()),
        }
    }

    fn decode(text: &str) -> Option<Self> {
        let mut parts = text.splitn(3, '.');
        let (stage, strategies, hash) = (parts.next()?, parts.next()?, parts.next()?.to_owned());
        let strategies: Vec<Strategy> = strategies
            .split('+')
            .map(Strategy::parse)
            .collect::<Result<_, _>>()
            .ok()?;
        match (stage, strategies.as_slice()) {
            ("choose", [_, ..]) => Some(Pending::Choose { strategies, hash }),
            ("answer", [strategy]) => Some(Pending::Answer {
                strategy: *strategy,
                hash,
            }),
            _ => None,
        }
    }
}

/// A strategy as the second-factor page lists it.
#[derive(Serialize)]
struct Choice {
    value: &'static str,
    label: &'static str,
}

fn label(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::Email => "A code by e-mail",
        Strategy::Phone => "A code by text message",
        Strategy::Totp => "A code from your authenticator app",
        Strategy::Passkey => "Your passkey",
        Strategy::RecoveryCode => "A recovery code",
    }
}

pub async fn mfa_page(browser: Browser, Query(query): Query<ReturnTo>) -> Response {
    let return_to = kept(&query.return_to).to_owned();
    match browser.pending().as_deref().and_then(Pending::decode) {
        Some(Pending::Choose { strategies, .. }) => choose_page(browser, &strategies, &return_to, None),
        Some(Pending::Answer { strategy, .. }) => answer_page(browser, strategy, None, &return_to, None),
        None => browser.redirect(&format!("/ui/login?return_to={}", urlencode(&return_to))),
    }
}

fn choose_page(browser: Browser, strategies: &[Strategy], return_to: &str, error: Option<Message>) -> Response {
    let choices: Vec<Choice> = strategies
        .iter()
        .map(|s| Choice {
            value: s.as_str(),
            label: label(*s),
        })
        .collect();
    let status = error.as_ref().map_or(StatusCode::OK, |m| m.status);
    let values = context! { stage => "choose", choices, return_to, error };
    browser.page(status, "mfa.html", values)
}

fn answer_page(
    browser: Browser,
    strategy: Strategy,
    public_key: Option<serde_json::Value>,
    return_to: &str,
    error: Option<Message>,
) -> Response {
    let status = error.as_ref().map_or(StatusCode::OK, |m| m.status);
    let values = context! {
        stage => "answer",
        strategy => strategy.as_str(),
        label => label(strategy),
        options => public_key.map(|options| options.to_string()),
        return_to,
        error,
    };
    browser.page(status, "mfa.html", values)
}

#[derive(Deserialize)]
pub struct ChooseForm {
    strategy: String,
    return_to: Option<String>,
}

pub async fn choose(
    mut browser: Browser,
    State(challenges): State<Arc<Challenges>>,
    Submitted(form): Submitted<ChooseForm>,
) -> Response {
    let return_to = kept(&form.return_to).to_owned();
    let Some(Pending::Choose { strategies, hash }) = browser.pending().as_deref().and_then(Pending::decode) else {
        return start_again(browser, &return_to);
    };
    match challenges.choose_strategy(&hash, &form.strategy, &browser.origin).await {
        Ok(step) => {
            let strategy = Strategy::parse(&form.strategy).unwrap_or(Strategy::RecoveryCode);
            browser.set_pending(
                Pending::Answer {
                    strategy,
                    hash: step.hash,
                }
                .encode(),
            );
            answer_page(browser, strategy, step.public_key, &return_to, None)
        }
        Err(AuthError::InvalidHash) => start_again(browser, &return_to),
        Err(err) => choose_page(browser, &strategies, &return_to, Some(Message::from(err))),
    }
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    credential: String,
    return_to: Option<String>,
}

pub async fn answer(
    mut browser: Browser,
    State(challenges): State<Arc<Challenges>>,
    Submitted(form): Submitted<AnswerForm>,
) -> Response {
    let return_to = kept(&form.return_to).to_owned();
    let Some(Pending::Answer { strategy, hash }) = browser.pending().as_deref().and_then(Pending::decode) else {
        return start_again(browser, &return_to);
    };
    let answer = match strategy {
        Strategy::Passkey => match passkey_response(&form.credential) {
            Ok(credential) => FactorAnswer::Passkey(credential),
            Err(message) => return answer_page(browser, strategy, None, &return_to, Some(message)),
        },
        _ => FactorAnswer::Code(SecretString::from(form.code.trim().to_owned())),
    };
    match challenges.submit_code(&hash, answer, &browser.origin).await {
        Ok(credential) => {
            browser.start_session(&credential);
            browser.redirect(destination(Some(&return_to)))
        }
        Err(AuthError::InvalidHash) => start_again(browser, &return_to),
        Err(err) => answer_page(browser, strategy, None, &return_to, Some(Message::from(err))),
    }
}

/// The sign-in to start over: its second-factor step expired or was used up.
fn start_again(mut browser: Browser, return_to: &str) -> Response {
    browser.clear_pending();
    let message = Message::from(AuthError::InvalidHash);
    login_form_again(browser, message, "", return_to)
}

pub async fn logout_page(browser: Browser) -> Response {
    browser.page(StatusCode::OK, "logout.html", context! {})
}

pub async fn logout(
    mut browser: Browser,
    State(sessions): State<Arc<Sessions>>,
    Submitted(_): Submitted<serde::de::IgnoredAny>,
) -> Response {
    if let Some(claims) = browser.session.clone() {
        if let Err(err) = sessions.logout(&claims, &browser.origin).await {
            tracing::warn!(%err, "sign-out from a page did not revoke the session");
        }
    }
    browser.end_session();
    browser.clear_pending();
    browser.page(StatusCode::OK, "logout.html", context! { done => true })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_step_survives_its_cookie() {
        let steps = [
            Pending::Choose {
                strategies: vec![Strategy::Totp, Strategy::RecoveryCode],
                hash: "a-b_c".to_owned(),
            },
            Pending::Answer {
                strategy: Strategy::Passkey,
                hash: "x_y-z".to_owned(),
            },
        ];
        for step in steps {
            assert_eq!(Pending::decode(&step.encode()), Some(step));
        }
    }

    #[test]
    fn a_tampered_pending_step_is_no_step() {
        for text in [
            "",
            "choose",
            "choose..h",
            "answer.EMAIL+PHONE.h",
            "other.EMAIL.h",
            "choose.NOPE.h",
        ] {
            assert_eq!(Pending::decode(text), None, "{text:?}");
        }
    }
}
