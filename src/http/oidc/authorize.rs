//! `GET /oauth2/authorize`: the browser arrives from an application; it leaves with a code
//! or an error for the application, after the hosted sign-in when needed.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;

use super::parameters;
use crate::domain::authorization::AuthorizationRequest;
use crate::domain::flow::{SignInFlow, Stage, Then};
use crate::http::extract::Query;
use crate::http::pages::browser::{is_form, Browser, Submitted};
use crate::http::pages::messages::Message;
use crate::http::pages::onward::Onward;
use crate::usecases::oidc::authorize::{Authorizations, Outcome};
use crate::usecases::oidc::logout::{LogoutOutcome, LogoutRequest, RpLogout};
use crate::usecases::sign_in_flows::SignInFlows;

/// `GET /oauth2/authorize`: the parameters in the query.
pub async fn authorize(
    browser: Browser,
    State(authorizations): State<Arc<Authorizations>>,
    State(flows): State<Arc<SignInFlows>>,
    RawQuery(query): RawQuery,
) -> Response {
    let parameters = parameters(query.unwrap_or_default().as_bytes());
    let unreadable = "a parameter is repeated or unreadable";
    decide(browser, &authorizations, &flows, parameters, unreadable).await
}

/// `POST /oauth2/authorize` (OIDC Core §3.1.2.1: the parameters form-encoded in the body);
/// decided exactly as the same request by GET.
pub async fn authorize_posted(
    browser: Browser,
    State(authorizations): State<Arc<Authorizations>>,
    State(flows): State<Arc<SignInFlows>>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let parameters = is_form(&headers).then(|| parameters(&body)).flatten();
    let unreadable = "send a form, each parameter once";
    decide(browser, &authorizations, &flows, parameters, unreadable).await
}

/// Decides an authorization request just received, or says why it cannot be read.
async fn decide(
    browser: Browser,
    authorizations: &Authorizations,
    flows: &SignInFlows,
    parameters: Option<HashMap<String, String>>,
    unreadable: &str,
) -> Response {
    let Some(parameters) = parameters else {
        return malformed(browser, unreadable);
    };
    let request = AuthorizationRequest::parse(&parameters);
    let outcome = authorizations.authorize(&request, browser.session.as_ref()).await;
    answer(browser, flows, outcome, request, None).await
}

/// `GET /oauth2/authorize/resume?flow=`: the authorization a sign-in flow carried, decided
/// again once the person signed in through that flow (and only then).
pub async fn resume(
    browser: Browser,
    State(authorizations): State<Arc<Authorizations>>,
    State(flows): State<Arc<SignInFlows>>,
    Query(onward): Query<Onward>,
) -> Response {
    let Some((id, flow)) = onward.kept().flow(&browser, &flows).await else {
        return expired(browser);
    };
    let request = match (&flow.stage, flow.authorization()) {
        (Stage::SignedIn, Some(request)) => request.clone(),
        _ => return browser.redirect(&format!("/ui/login{}", Onward::in_flow(&id).query())),
    };
    let outcome = authorizations.authorize(&request, browser.session.as_ref()).await;
    answer(browser, &flows, outcome, request, Some((id, flow))).await
}

/// The page for an authorization request that cannot be read: nothing goes back to the
/// application, since its redirect URI is not known to be its own.
fn malformed(browser: Browser, why: &str) -> Response {
    let text = format!("The application's request is malformed ({why}).");
    let message = Message::general(StatusCode::BAD_REQUEST, text);
    browser.message(
        "Sign-in request refused",
        message,
        ("/ui/account", "Go to your account"),
    )
}

/// The page for a flow that is over (taken too long, answered already, or another
/// browser's): the application has to ask again.
fn expired(browser: Browser) -> Response {
    let text = "This sign-in request has expired or was already answered. Go back to the application and try again.";
    let message = Message::general(StatusCode::BAD_REQUEST, text);
    browser.message(
        "Sign-in request expired",
        message,
        ("/ui/account", "Go to your account"),
    )
}

/// The person's answer on the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allow,
    Deny,
}

#[derive(Deserialize)]
pub struct ConsentForm {
    /// The sign-in flow holding the authorization the page asked about.
    flow: String,
    decision: Decision,
}

/// `POST /oauth2/consent`: the answer of the consent page, for the authorization its flow
/// holds (never one sent with the form).
pub async fn consent(
    browser: Browser,
    State(authorizations): State<Arc<Authorizations>>,
    State(flows): State<Arc<SignInFlows>>,
    Submitted(form): Submitted<ConsentForm>,
) -> Response {
    let current = Onward::in_flow(&form.flow).flow(&browser, &flows).await;
    let Some((id, flow)) = current else {
        return expired(browser);
    };
    let request = match (&flow.stage, flow.authorization()) {
        (Stage::Consent, Some(request)) => request.clone(),
        _ => return expired(browser),
    };
    let allow = form.decision == Decision::Allow;
    let outcome = authorizations
        .answer_consent(&request, browser.session.as_ref(), allow)
        .await;
    answer(browser, &flows, outcome, request, Some((id, flow))).await
}

/// The browser's `current` flow (when there is one) now at `stage`, leading to `request`;
/// else a new one. Its id.
async fn flow_for(
    browser: &Browser,
    flows: &SignInFlows,
    current: Option<(String, SignInFlow)>,
    stage: Stage,
    request: AuthorizationRequest,
    fresh: bool,
) -> Result<String, crate::domain::AuthError> {
    let then = Then::Authorization(Box::new(request));
    match current {
        Some((id, flow)) => {
            let flow = SignInFlow { then, fresh, ..flow }.at(stage);
            flows.save(&id, &flow).await.map(|()| id)
        }
        None => flows.start(browser.binding(), stage, then, fresh).await,
    }
}

/// The browser's next step for `outcome` of `request`, decided within the `current` flow
/// when it resumes one.
async fn answer(
    browser: Browser,
    flows: &SignInFlows,
    outcome: Outcome,
    request: AuthorizationRequest,
    current: Option<(String, SignInFlow)>,
) -> Response {
    match outcome {
        Outcome::Redirect(to) => {
            if let Some((id, _)) = current {
                flows.finish(&id).await;
            }
            browser.redirect(&to)
        }
        Outcome::SignIn { fresh, then } => {
            match flow_for(&browser, flows, current, Stage::Credentials, *then, fresh).await {
                Ok(id) => browser.redirect(&format!("/ui/login{}", Onward::in_flow(&id).query())),
                Err(err) => {
                    tracing::warn!(%err, "authorize: the sign-in flow is not stored");
                    unavailable(browser)
                }
            }
        }
        Outcome::Refuse(text) => {
            let message = Message::general(StatusCode::BAD_REQUEST, text);
            browser.message(
                "Sign-in request refused",
                message,
                ("/ui/account", "Go to your account"),
            )
        }
        Outcome::Unavailable => unavailable(browser),
        Outcome::Consent { client_name, scopes } => {
            let flow = match flow_for(&browser, flows, current, Stage::Consent, request, false).await {
                Ok(flow) => flow,
                Err(err) => {
                    tracing::warn!(%err, "authorize: the consent's flow is not stored");
                    return unavailable(browser);
                }
            };
            let asks: Vec<&str> = scopes.iter().map(|s| scope_words(s)).collect();
            let title = format!("Allow {client_name}?");
            let values = context! { title, client_name, asks, flow };
            browser.page(StatusCode::OK, "consent.html", values)
        }
    }
}

/// The page when the service cannot decide now (a store is down).
fn unavailable(browser: Browser) -> Response {
    let text = "The sign-in service is unavailable. Try again shortly.";
    let message = Message::general(StatusCode::SERVICE_UNAVAILABLE, text);
    browser.message("Try again shortly", message, ("/ui/account", "Go to your account"))
}

/// What a scope lets an application know or do, in words.
fn scope_words(scope: &str) -> &'static str {
    match scope {
        "openid" => "Know that it is you (your account's id)",
        "profile" => "See your name",
        "email" => "See your e-mail address",
        "phone" => "See your phone number",
        "offline_access" => "Stay connected to your account while you are away",
        "organizations" => "See your organizations and your role in each",
        _ => "Something not described",
    }
}

/// `GET /oauth2/logout` (RP-Initiated Logout 1.0).
pub async fn logout(
    mut browser: Browser,
    State(rp_logout): State<Arc<RpLogout>>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(parameters) = parameters(query.unwrap_or_default().as_bytes()) else {
        return browser.redirect("/ui/logout");
    };
    let get = |name: &str| parameters.get(name).cloned();
    let request = LogoutRequest {
        id_token_hint: get("id_token_hint"),
        post_logout_redirect_uri: get("post_logout_redirect_uri"),
        state: get("state"),
        client_id: get("client_id"),
    };
    let origin = browser.origin.clone();
    match rp_logout.logout(&request, browser.session.as_ref(), &origin).await {
        LogoutOutcome::Confirm => browser.redirect("/ui/logout"),
        LogoutOutcome::Refuse(text) => {
            let message = Message::general(StatusCode::BAD_REQUEST, text);
            browser.message("Sign-out request refused", message, ("/ui/logout", "Sign out here"))
        }
        LogoutOutcome::Unavailable => {
            let text = "The sign-in service is unavailable. Try again shortly.";
            let message = Message::general(StatusCode::SERVICE_UNAVAILABLE, text);
            browser.message("Try again shortly", message, ("/ui/logout", "Sign out here"))
        }
        LogoutOutcome::Redirect(to) => {
            browser.end_session();
            browser.redirect(&to)
        }
        LogoutOutcome::SignedOut => {
            browser.end_session();
            browser.page(StatusCode::OK, "logout.html", context! { done => true })
        }
    }
}
