//! `GET /oauth2/authorize`: the browser arrives from an application; it leaves with a code
//! or an error for the application, after the hosted sign-in when needed.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;

use super::parameters;
use crate::domain::authorization::AuthorizationRequest;
use crate::http::pages::browser::{is_form, urlencode, Browser, Submitted};
use crate::http::pages::messages::Message;
use crate::usecases::oidc::authorize::{Authorizations, Outcome};
use crate::usecases::oidc::logout::{LogoutOutcome, LogoutRequest, RpLogout};

pub async fn authorize(
    browser: Browser,
    State(authorizations): State<Arc<Authorizations>>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let Some(parameters) = parameters(query.as_bytes()) else {
        return malformed(browser, "a parameter is repeated or unreadable");
    };
    let request = AuthorizationRequest::parse(&parameters);
    let outcome = authorizations.authorize(&request, browser.session.as_ref()).await;
    answer(browser, outcome, &request)
}

/// `POST /oauth2/authorize` (OIDC Core §3.1.2.1: the parameters form-encoded in the body);
/// decided exactly as the same request by GET.
pub async fn authorize_posted(
    browser: Browser,
    State(authorizations): State<Arc<Authorizations>>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let query = match is_form(&headers) {
        true => String::from_utf8(body.to_vec()).ok(),
        false => None,
    };
    let Some(query) = query.filter(|q| parameters(q.as_bytes()).is_some()) else {
        return malformed(browser, "send a form, each parameter once");
    };
    authorize(browser, State(authorizations), RawQuery(Some(query))).await
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

#[derive(Deserialize)]
pub struct ConsentForm {
    /// The authorization request's query, carried through the consent page.
    query: String,
    decision: String,
}

/// `POST /oauth2/consent`: the answer of the consent page.
pub async fn consent(
    browser: Browser,
    State(authorizations): State<Arc<Authorizations>>,
    Submitted(form): Submitted<ConsentForm>,
) -> Response {
    let Some(parameters) = parameters(form.query.as_bytes()) else {
        let message = Message::general(StatusCode::BAD_REQUEST, "The request could not be read. Start again.");
        return browser.message(
            "Sign-in request refused",
            message,
            ("/ui/account", "Go to your account"),
        );
    };
    let request = AuthorizationRequest::parse(&parameters);
    let allow = form.decision == "allow";
    let outcome = authorizations
        .answer_consent(&request, browser.session.as_ref(), allow)
        .await;
    answer(browser, outcome, &request)
}

/// The browser's next step for `outcome` of `request`.
fn answer(browser: Browser, outcome: Outcome, request: &AuthorizationRequest) -> Response {
    match outcome {
        Outcome::Redirect(to) => browser.redirect(&to),
        Outcome::SignIn { force, then } => {
            let again = serde_urlencoded::to_string(then.to_parameters()).unwrap_or_default();
            let return_to = format!("/oauth2/authorize?{again}");
            let force = if force { "&force=1" } else { "" };
            browser.redirect(&format!("/ui/login?return_to={}{force}", urlencode(&return_to)))
        }
        Outcome::Refuse(text) => {
            let message = Message::general(StatusCode::BAD_REQUEST, text);
            browser.message(
                "Sign-in request refused",
                message,
                ("/ui/account", "Go to your account"),
            )
        }
        Outcome::Unavailable => {
            let text = "The sign-in service is unavailable. Try again shortly.";
            let message = Message::general(StatusCode::SERVICE_UNAVAILABLE, text);
            browser.message("Try again shortly", message, ("/ui/account", "Go to your account"))
        }
        Outcome::Consent { client_name, scopes } => {
            let asks: Vec<&str> = scopes.iter().map(|s| scope_words(s)).collect();
            let title = format!("Allow {client_name}?");
            // The request as parsed, carried through the page to `POST /oauth2/consent`.
            let query = serde_urlencoded::to_string(request.to_parameters()).unwrap_or_default();
            let values = context! { title, client_name, asks, query };
            browser.page(StatusCode::OK, "consent.html", values)
        }
    }
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
