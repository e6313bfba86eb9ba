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
use crate::domain::flow::{SignInFlow, Stage};
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
    State(flows): State<Arc<SignInFlows>>,
    Submitted(form): Submitted<LoginForm>,
) -> Response {
    let return_to = kept(&form.return_to).to_owned();
    match login.login(&form.email, form.password, &browser.origin).await {
        Ok(LoginOutcome::Authenticated(credential)) => {
            browser.start_session(&credential);
            browser.redirect(destination(Some(&return_to)))
        }
        Ok(LoginOutcome::SecondFactorRequired { hash, strategies }) => {
            // From here the sign-in takes several pages: a flow carries it.
            let stage = Stage::ChooseFactor { strategies, hash };
            let destination = Some(return_to.clone()).filter(|to| !to.is_empty());
            match flows.start(stage, destination).await {
                Ok((id, _)) => {
                    browser.set_flow(&id);
                    browser.redirect("/ui/mfa")
                }
                Err(err) => login_form_again(browser, Message::from(err), &form.email, &return_to),
            }
        }
        Err(err) => login_form_again(browser, Message::from(err), &form.email, &return_to),
    }
}

/// The browser's sign-in flow and its id, while it lives.
async fn flow_of(browser: &Browser, flows: &SignInFlows) -> Option<(String, SignInFlow)> {
    let id = browser.flow_id()?;
    match flows.get(&id).await {
        Ok(flow) => flow.map(|flow| (id, flow)),
        Err(err) => {
            tracing::warn!(%err, "sign-in flow unreadable");
            None
        }
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

pub async fn mfa_page(browser: Browser, State(flows): State<Arc<SignInFlows>>) -> Response {
    match flow_of(&browser, &flows).await.map(|(_, flow)| flow) {
        Some(SignInFlow {
            stage: Stage::ChooseFactor { strategies, .. },
            ..
        }) => choose_page(browser, &strategies, None),
        Some(SignInFlow {
            stage: Stage::AnswerFactor { strategy, .. },
            ..
        }) => answer_page(browser, strategy, None, None),
        Some(flow) => {
            let to = flow.return_to.as_deref().unwrap_or_default();
            browser.redirect(&format!("/ui/login?return_to={}", urlencode(to)))
        }
        None => browser.redirect("/ui/login"),
    }
}

fn choose_page(browser: Browser, strategies: &[Strategy], error: Option<Message>) -> Response {
    let choices: Vec<Choice> = strategies
        .iter()
        .map(|s| Choice {
            value: s.as_str(),
            label: label(*s),
        })
        .collect();
    let status = error.as_ref().map_or(StatusCode::OK, |m| m.status);
    let values = context! { stage => "choose", choices, error };
    browser.page(status, "mfa.html", values)
}

fn answer_page(
    browser: Browser,
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
        error,
    };
    browser.page(status, "mfa.html", values)
}

#[derive(Deserialize)]
pub struct ChooseForm {
    strategy: String,
}

pub async fn choose(
    browser: Browser,
    State(challenges): State<Arc<Challenges>>,
    State(flows): State<Arc<SignInFlows>>,
    Submitted(form): Submitted<ChooseForm>,
) -> Response {
    let Some((id, flow)) = flow_of(&browser, &flows).await else {
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
                return choose_page(browser, &strategies, Some(Message::from(err)));
            }
            answer_page(browser, strategy, step.public_key, None)
        }
        Err(AuthError::InvalidHash) => start_again(browser, &flows, Some((id, flow))).await,
        Err(err) => choose_page(browser, &strategies, Some(Message::from(err))),
    }
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    credential: String,
}

pub async fn answer(
    mut browser: Browser,
    State(challenges): State<Arc<Challenges>>,
    State(flows): State<Arc<SignInFlows>>,
    Submitted(form): Submitted<AnswerForm>,
) -> Response {
    let Some((id, flow)) = flow_of(&browser, &flows).await else {
        return start_again(browser, &flows, None).await;
    };
    let Stage::AnswerFactor { strategy, hash } = flow.stage.clone() else {
        return start_again(browser, &flows, Some((id, flow))).await;
    };
    let answer = match strategy {
        Strategy::Passkey => match passkey_response(&form.credential) {
            Ok(credential) => FactorAnswer::Passkey(credential),
            Err(message) => return answer_page(browser, strategy, None, Some(message)),
        },
        _ => FactorAnswer::Code(SecretString::from(form.code.trim().to_owned())),
    };
    match challenges.submit_code(&hash, answer, &browser.origin).await {
        Ok(credential) => {
            flows.finish(&id).await;
            browser.start_session(&credential);
            browser.redirect(destination(flow.return_to.as_deref()))
        }
        Err(AuthError::InvalidHash) => start_again(browser, &flows, Some((id, flow))).await,
        Err(err) => answer_page(browser, strategy, None, Some(Message::from(err))),
    }
}

/// The sign-in to start over (its second-factor step expired or was used up, or there is
/// no flow): the password form again, toward where the flow led.
async fn start_again(mut browser: Browser, flows: &SignInFlows, flow: Option<(String, SignInFlow)>) -> Response {
    let return_to = flow.as_ref().and_then(|(_, f)| f.return_to.clone()).unwrap_or_default();
    if let Some((id, _)) = flow {
        flows.finish(&id).await;
    }
    browser.clear_flow();
    let message = Message::from(AuthError::InvalidHash);
    login_form_again(browser, message, "", &return_to)
}

pub async fn logout_page(browser: Browser) -> Response {
    browser.page(StatusCode::OK, "logout.html", context! {})
}

pub async fn logout(
    mut browser: Browser,
    State(sessions): State<Arc<Sessions>>,
    State(flows): State<Arc<SignInFlows>>,
    Submitted(_): Submitted<serde::de::IgnoredAny>,
) -> Response {
    if let Some(claims) = browser.session.clone() {
        if let Err(err) = sessions.logout(&claims, &browser.origin).await {
            tracing::warn!(%err, "sign-out from a page did not revoke the session");
        }
    }
    browser.end_session();
    if let Some(id) = browser.flow_id() {
        flows.finish(&id).await;
    }
    browser.clear_flow();
    browser.page(StatusCode::OK, "logout.html", context! { done => true })
}
