//! `GET /oauth2/authorize`: the browser arrives from an application; it leaves with a code
//! or an error for the application, after the hosted sign-in when needed.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::http::pages::browser::{urlencode, Browser};
use crate::http::pages::messages::Message;
use crate::usecases::oidc::authorize::{Authorizations, AuthorizeRequest, Outcome};

pub async fn authorize(
    browser: Browser,
    State(authorizations): State<Arc<Authorizations>>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let Some(parameters) = parse(&query) else {
        let message = Message::general(
            StatusCode::BAD_REQUEST,
            "The application's request is malformed (a parameter is repeated or unreadable).",
        );
        return browser.message(
            "Sign-in request refused",
            message,
            ("/ui/account", "Go to your account"),
        );
    };
    let get = |name: &str| parameters.get(name).cloned();
    let request = AuthorizeRequest {
        response_type: get("response_type"),
        client_id: get("client_id"),
        redirect_uri: get("redirect_uri"),
        scope: get("scope"),
        state: get("state"),
        nonce: get("nonce"),
        prompt: get("prompt"),
        max_age: get("max_age"),
        code_challenge: get("code_challenge"),
        code_challenge_method: get("code_challenge_method"),
    };
    match authorizations.authorize(&request, browser.session.as_ref()).await {
        Outcome::Redirect(to) => browser.redirect(&to),
        Outcome::SignIn { force } => {
            // Back here after signing in, without the `prompt=login` that sent us away.
            let again: Vec<String> = query
                .split('&')
                .filter(|pair| !pair.starts_with("prompt=") || !pair.contains("login"))
                .map(str::to_owned)
                .collect();
            let return_to = format!("/oauth2/authorize?{}", again.join("&"));
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
    }
}

/// The query's parameters; `None` when one is repeated (RFC 6749 §3.1) or unreadable.
fn parse(query: &str) -> Option<HashMap<String, String>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    let mut parameters = HashMap::with_capacity(pairs.len());
    for (name, value) in pairs {
        if parameters.insert(name, value).is_some() {
            return None;
        }
    }
    Some(parameters)
}
