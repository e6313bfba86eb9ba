//! "Continue with ...": the way out to an upstream provider and the callback it sends the
//! browser back to (API.md part 3). Both are browser pages: every refusal is a page with a
//! message, never a problem document and never a 5xx.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::browser::{signed_in_or_return, Browser, Submitted};
use super::messages::Message;
use super::onward::{after_sign_in, Onward};
use crate::domain::flow::Then;
use crate::domain::upstream::Identity;
use crate::domain::AuthError;
use crate::http::extract::{Path, Query};
use crate::usecases::connected_accounts::ConnectedAccounts;
use crate::usecases::overview::AccountOverview;
use crate::usecases::sign_in_flows::SignInFlows;
use crate::usecases::upstream_sign_in::{Answer, Arrived, Leaving, UpstreamSignIn};

/// `GET /login/upstream/{id}`'s query: where to go on to, and `link=1` to connect the
/// provider to the signed-in account.
#[derive(Deserialize)]
pub struct DepartureQuery {
    #[serde(flatten)]
    onward: Onward,
    #[serde(default)]
    link: Option<String>,
}

/// `GET /login/upstream/{id}`: off to the provider (302), its round trip a stage of the
/// sign-in flow this continues, if any.
pub async fn depart(
    browser: Browser,
    State(upstream): State<Arc<UpstreamSignIn>>,
    State(flows): State<Arc<SignInFlows>>,
    Path(provider): Path<String>,
    Query(query): Query<DepartureQuery>,
) -> Response {
    if upstream.provider(&provider).is_err() {
        return super::not_found();
    }
    let onward = query.onward.kept();
    let linking = query.link.as_deref() == Some("1");
    let leaving = match (linking, &browser.session) {
        (true, None) => {
            let back = format!("/login/upstream/{provider}?link=1");
            return browser.redirect(&format!("/ui/login{}", Onward::returning_to(&back).query()));
        }
        (true, Some(session)) => Leaving {
            then: Then::Page(Some("/ui/account".into())),
            fresh: false,
            link_to: Some(session.sub),
            pending: None,
        },
        (false, _) => match onward.flow(&browser, &flows).await {
            Some((id, flow)) => {
                flows.finish(&id).await;
                Leaving {
                    then: flow.then,
                    fresh: flow.fresh,
                    link_to: None,
                    pending: flow.link,
                }
            }
            None => Leaving {
                then: Then::Page(onward.return_to.clone()),
                fresh: false,
                link_to: None,
                pending: None,
            },
        },
    };
    match upstream.depart(&provider, browser.binding(), leaving).await {
        Ok(url) => browser.leave_for(&url),
        Err(err) => refused(browser, err),
    }
}

/// What a provider sends back, in the query or (`form_post`) the body.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Callback {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    #[serde(default)]
    state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    /// Apple's JSON with the name, on the first sign-in only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user: Option<String>,
}

/// `POST /login/upstream/{id}/callback` (`response_mode=form_post`): the cross-site POST
/// carries no `SameSite=Lax` cookie, so the answer goes on to the same callback as a GET,
/// which does.
pub async fn arrive_by_post(Path(provider): Path<String>, Form(callback): Form<Callback>) -> Response {
    let query = serde_urlencoded::to_string(&callback).unwrap_or_default();
    let to = format!(
        "/login/upstream/{}/callback?{query}",
        super::browser::urlencode(&provider)
    );
    (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
}

/// `GET /login/upstream/{id}/callback`: the answer validated, the browser signed in (or
/// sent on to its second factor, or to prove the account the address belongs to).
pub async fn arrive(
    mut browser: Browser,
    State(upstream): State<Arc<UpstreamSignIn>>,
    State(flows): State<Arc<SignInFlows>>,
    Path(provider): Path<String>,
    Query(callback): Query<Callback>,
) -> Response {
    if upstream.provider(&provider).is_err() {
        return super::not_found();
    }
    let answer = Answer {
        state: callback.state,
        code: callback.code,
        error: callback.error,
        iss: callback.iss,
        user: callback.user,
    };
    let origin = browser.origin.clone();
    match upstream.arrive(&provider, answer, browser.binding(), &origin).await {
        Ok(Arrived::SignedIn {
            credential,
            flow_id,
            flow,
        }) => {
            browser.start_session(&credential);
            let to = after_sign_in(&flows, &flow_id, *flow, &browser).await;
            browser.redirect(&to)
        }
        Ok(Arrived::SecondFactor(id)) => browser.redirect(&format!("/ui/mfa{}", Onward::in_flow(&id).query())),
        Ok(Arrived::ProveAccount(flow)) => browser.redirect(&format!("/ui/login{}", Onward::in_flow(&flow).query())),
        Ok(Arrived::Connected) => browser.redirect("/ui/account?done=connected"),
        Err(err) => refused(browser, err),
    }
}

/// A refused upstream sign-in, as a page with the way back to the sign-in page.
fn refused(browser: Browser, err: AuthError) -> Response {
    let message = Message::from(err);
    browser.message("The sign-in did not work", message, ("/ui/login", "Back to sign-in"))
}

/// The connected accounts as the account page lists them.
pub(super) fn identities_view(identities: &[Identity]) -> Vec<minijinja::Value> {
    identities
        .iter()
        .map(|identity| {
            minijinja::context! {
                id => identity.id,
                provider => identity.provider.as_str(),
                email => identity.email,
                since => super::account::when(identity.created_at),
            }
        })
        .collect()
}

/// `POST /ui/account/identities/{id}/remove`: disconnects a connected account.
pub async fn disconnect(
    browser: Browser,
    State(connected): State<Arc<ConnectedAccounts>>,
    State(overview): State<Arc<AccountOverview>>,
    Path(id): Path<Uuid>,
    Submitted(_): Submitted<serde::de::IgnoredAny>,
) -> Response {
    let claims = signed_in_or_return!(browser);
    match connected.disconnect(&claims, id, &browser.origin).await {
        Ok(()) => browser.redirect("/ui/account?done=disconnected"),
        Err(err) => super::account::show(browser, &overview, &claims, None, Some(Message::from(err))).await,
    }
}
