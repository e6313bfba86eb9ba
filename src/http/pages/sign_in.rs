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

use super::browser::{Browser, Submitted};
use super::messages::Message;
use super::onward::{after_sign_in, next_after_sign_in, Onward};
use crate::domain::flow::{SignInFlow, Stage, Then};
use crate::domain::mfa::{FactorAnswer, Strategy};
use crate::domain::AuthError;
use crate::http::extract::Query;
use crate::usecases::accounts::{Accounts, SignUp};
use crate::usecases::login::{Login, LoginOutcome};
use crate::usecases::mfa::challenge::Challenges;
use crate::usecases::passkey_login::PasskeyLogin;
use crate::usecases::sessions::Sessions;
use crate::usecases::sign_in_flows::SignInFlows;
use crate::usecases::verification::EmailVerification;

pub async fn signup_page(browser: Browser, Query(onward): Query<Onward>) -> Response {
    let values = context! { onward => onward.kept().for_page() };
    browser.page(StatusCode::OK, "signup.html", values)
}

#[derive(Deserialize)]
pub struct SignUpForm {
    name: String,
    email: String,
    password: SecretString,
    #[serde(default)]
    phone: String,
    #[serde(flatten)]
    onward: Onward,
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
    let onward = form.onward.kept().for_page();
    match accounts.sign_up(None, request, &browser.origin).await {
        Ok(_) => {
            let values = context! {
                email => form.email,
                link_sent => verification.sends_links(),
                onward,
            };
            browser.page(StatusCode::CREATED, "signed_up.html", values)
        }
        Err(err) => {
            let message = Message::from(err);
            let values = context! {
                name => form.name, email => form.email, phone => form.phone, onward, error => &message,
            };
            browser.page(message.status, "signup.html", values)
        }
    }
}

/// `GET /ui/login`: a signed-in browser goes straight on, unless its flow asks for a fresh
/// sign-in (an application's `prompt=login` or `max_age`).
pub async fn login_page(
    browser: Browser,
    State(flows): State<Arc<SignInFlows>>,
    Query(onward): Query<Onward>,
) -> Response {
    let onward = onward.kept();
    let flow = onward.flow(&browser, &flows).await;
    let fresh = flow.as_ref().is_some_and(|(_, flow)| flow.fresh);
    if browser.session.is_some() && !fresh {
        let to = next_after_sign_in(&flows, &onward, flow, &browser).await;
        return browser.redirect(&to);
    }
    // An application may name who signs in (`login_hint`): the form starts filled in.
    let email = flow
        .as_ref()
        .and_then(|(_, flow)| flow.authorization())
        .and_then(|request| request.asks.as_ref().ok())
        .and_then(|asks| asks.login_hint.clone());
    // An upstream identity waits for this account to be proved: say so, address filled in.
    let pending = flow.as_ref().and_then(|(_, flow)| flow.link.clone());
    let email = pending.as_ref().and_then(|p| p.email.clone()).or(email);
    let pending = pending.map(|p| p.provider_name);
    let values = context! { onward => onward.for_page(), email, pending };
    browser.page(StatusCode::OK, "login.html", values)
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: SecretString,
    #[serde(flatten)]
    onward: Onward,
}

pub async fn login(
    mut browser: Browser,
    State(login): State<Arc<Login>>,
    State(flows): State<Arc<SignInFlows>>,
    Submitted(form): Submitted<LoginForm>,
) -> Response {
    let onward = form.onward.kept();
    let flow = onward.flow(&browser, &flows).await;
    match login.login(&form.email, form.password, &browser.origin).await {
        Ok(LoginOutcome::Authenticated(credential)) => {
            browser.start_session(&credential);
            let to = next_after_sign_in(&flows, &onward, flow, &browser).await;
            browser.redirect(&to)
        }
        Ok(LoginOutcome::SecondFactorRequired { hash, strategies }) => {
            // From here the sign-in takes several pages: a flow carries it.
            let stage = Stage::ChooseFactor { strategies, hash };
            let saved = match flow {
                Some((id, flow)) => flows.save(&id, &flow.at(stage)).await.map(|()| id),
                None => {
                    let then = Then::Page(onward.return_to.clone());
                    flows.start(browser.binding(), stage, then, false).await
                }
            };
            match saved {
                Ok(id) => browser.redirect(&format!("/ui/mfa{}", Onward::in_flow(&id).query())),
                Err(err) => login_form_again(browser, Message::from(err), &form.email, &onward),
            }
        }
        Err(err) => login_form_again(browser, Message::from(err), &form.email, &onward),
    }
}

fn login_form_again(browser: Browser, message: Message, email: &str, onward: &Onward) -> Response {
    let values = context! { email, onward => onward.for_page(), error => &message };
    browser.page(message.status, "login.html", values)
}

#[derive(Deserialize)]
pub struct PasskeyForm {
    #[serde(default)]
    hash: String,
    #[serde(default)]
    credential: String,
    #[serde(flatten)]
    onward: Onward,
}

pub async fn login_with_passkey(
    mut browser: Browser,
    State(passkeys): State<Arc<PasskeyLogin>>,
    State(flows): State<Arc<SignInFlows>>,
    Submitted(form): Submitted<PasskeyForm>,
) -> Response {
    let onward = form.onward.kept();
    let credential = match passkey_response(&form.credential) {
        Ok(credential) => credential,
        Err(message) => return login_form_again(browser, message, "", &onward),
    };
    match passkeys.finish(&form.hash, &credential, &browser.origin).await {
        Ok(credential) => {
            browser.start_session(&credential);
            let flow = onward.flow(&browser, &flows).await;
            let to = next_after_sign_in(&flows, &onward, flow, &browser).await;
            browser.redirect(&to)
        }
        Err(err) => login_form_again(browser, Message::from(err), "", &onward),
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

pub async fn mfa_page(
    browser: Browser,
    State(flows): State<Arc<SignInFlows>>,
    Query(onward): Query<Onward>,
) -> Response {
    match onward.kept().flow(&browser, &flows).await {
        Some((
            id,
            SignInFlow {
                stage: Stage::ChooseFactor { strategies, .. },
                ..
            },
        )) => choose_page(browser, &id, &strategies, None),
        Some((
            id,
            SignInFlow {
                stage: Stage::AnswerFactor { strategy, .. },
                ..
            },
        )) => answer_page(browser, &id, strategy, None, None),
        Some((id, _)) => browser.redirect(&format!("/ui/login{}", Onward::in_flow(&id).query())),
        None => browser.redirect("/ui/login"),
    }
}

fn choose_page(browser: Browser, flow: &str, strategies: &[Strategy], error: Option<Message>) -> Response {
    let choices: Vec<Choice> = strategies
        .iter()
        .map(|s| Choice {
            value: s.as_str(),
            label: label(*s),
        })
        .collect();
    let status = error.as_ref().map_or(StatusCode::OK, |m| m.status);
    let values = context! { stage => "choose", choices, onward => Onward::in_flow(flow).for_page(), error };
    browser.page(status, "mfa.html", values)
}

fn answer_page(
    browser: Browser,
    flow: &str,
    strategy: Strategy,
    public_key: Option<serde_json::Value>,
    error: Option<Message>,
) -> Response {
    let status = error.as_ref().map_or(StatusCode::OK, |m| m.status);
    let values = context! {
        stage => "answer",
        strategy => strategy.as_str(),
        label => label(strategy),
        options => public_key.map(|options| options.to_string()),
        onward => Onward::in_flow(flow).for_page(),
        error,
    };
    browser.page(status, "mfa.html", values)
}

#[derive(Deserialize)]
pub struct ChooseForm {
    strategy: String,
    #[serde(flatten)]
    onward: Onward,
}

pub async fn choose(
    browser: Browser,
    State(challenges): State<Arc<Challenges>>,
    State(flows): State<Arc<SignInFlows>>,
    Submitted(form): Submitted<ChooseForm>,
) -> Response {
    let Some((id, flow)) = form.onward.kept().flow(&browser, &flows).await else {
        return start_again(browser, &flows, None).await;
    };
    let Stage::ChooseFactor { strategies, hash } = flow.stage.clone() else {
        return start_again(browser, &flows, Some((id, flow))).await;
    };
    match challenges.choose_strategy(&hash, &form.strategy, &browser.origin).await {
        Ok(step) => {
            let strategy = Strategy::parse(&form.strategy).unwrap_or(Strategy::RecoveryCode);
            let next = flow.at(Stage::AnswerFactor {
                strategy,
                hash: step.hash,
            });
            if let Err(err) = flows.save(&id, &next).await {
                return choose_page(browser, &id, &strategies, Some(Message::from(err)));
            }
            answer_page(browser, &id, strategy, step.public_key, None)
        }
        Err(AuthError::InvalidHash) => start_again(browser, &flows, Some((id, flow))).await,
        Err(err) => choose_page(browser, &id, &strategies, Some(Message::from(err))),
    }
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    credential: String,
    #[serde(flatten)]
    onward: Onward,
}

pub async fn answer(
    mut browser: Browser,
    State(challenges): State<Arc<Challenges>>,
    State(flows): State<Arc<SignInFlows>>,
    Submitted(form): Submitted<AnswerForm>,
) -> Response {
    let Some((id, flow)) = form.onward.kept().flow(&browser, &flows).await else {
        return start_again(browser, &flows, None).await;
    };
    let Stage::AnswerFactor { strategy, hash } = flow.stage.clone() else {
        return start_again(browser, &flows, Some((id, flow))).await;
    };
    let answer = match strategy {
        Strategy::Passkey => match passkey_response(&form.credential) {
            Ok(credential) => FactorAnswer::Passkey(credential),
            Err(message) => return answer_page(browser, &id, strategy, None, Some(message)),
        },
        _ => FactorAnswer::Code(SecretString::from(form.code.trim().to_owned())),
    };
    match challenges.submit_code(&hash, answer, &browser.origin).await {
        Ok(credential) => {
            browser.start_session(&credential);
            let to = after_sign_in(&flows, &id, flow, &browser).await;
            browser.redirect(&to)
        }
        Err(AuthError::InvalidHash) => start_again(browser, &flows, Some((id, flow))).await,
        Err(err) => answer_page(browser, &id, strategy, None, Some(Message::from(err))),
    }
}

/// The sign-in to start over (its second-factor step expired or was used up, or there is
/// no flow): the password form again, in the same flow when there is one.
async fn start_again(browser: Browser, flows: &SignInFlows, flow: Option<(String, SignInFlow)>) -> Response {
    let onward = match flow {
        Some((id, flow)) => match flows.save(&id, &flow.start_over()).await {
            Ok(()) => Onward::in_flow(&id),
            Err(_) => Onward::default(),
        },
        None => Onward::default(),
    };
    login_form_again(browser, Message::from(AuthError::InvalidHash), "", &onward)
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
    browser.page(StatusCode::OK, "logout.html", context! { done => true })
}
