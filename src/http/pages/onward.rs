//! Where a sign-in goes on to, as the pages carry it: a `return_to` own path for a plain
//! visit, or the id of a sign-in flow (`domain/flow.rs`) when the sign-in is part of
//! something larger: a second factor, an application's authorization. Forms carry both as
//! hidden fields and links as a query; neither ever holds more than an id or an own path.

use serde::{Deserialize, Serialize};

use super::browser::{urlencode, Browser};
use super::return_to::{destination, own_path};
use crate::domain::flow::{SignInFlow, Stage, Then};
use crate::usecases::sign_in_flows::SignInFlows;

/// Where to go on to, as a page's query or form sends it.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct Onward {
    /// An own path to go to once signed in (anything else is dropped).
    #[serde(default)]
    pub return_to: Option<String>,
    /// The sign-in flow this page belongs to.
    #[serde(default)]
    pub flow: Option<String>,
}

impl Onward {
    /// Only what may be carried: an own path, a flow id.
    pub fn kept(self) -> Self {
        Self {
            return_to: self.return_to.as_deref().and_then(own_path).map(str::to_owned),
            flow: self.flow.filter(|id| !id.is_empty()),
        }
    }

    /// Onward to the own path `to` once signed in.
    pub fn returning_to(to: &str) -> Self {
        Self {
            return_to: Some(to.to_owned()),
            flow: None,
        }
        .kept()
    }

    /// Onward within the flow `id`.
    pub fn in_flow(id: &str) -> Self {
        Self {
            return_to: None,
            flow: Some(id.to_owned()),
        }
    }

    /// The same as a query (`?flow=…` or `?return_to=…`), or nothing.
    pub fn query(&self) -> String {
        match (&self.flow, &self.return_to) {
            (Some(id), _) => format!("?flow={}", urlencode(id)),
            (None, Some(to)) => format!("?return_to={}", urlencode(to)),
            (None, None) => String::new(),
        }
    }

    /// What the templates show: both fields, and the query for links.
    pub fn for_page(&self) -> minijinja::Value {
        minijinja::context! {
            return_to => self.return_to.clone().unwrap_or_default(),
            flow => self.flow.clone().unwrap_or_default(),
            query => self.query(),
        }
    }

    /// The browser's live flow this names, with its id.
    pub async fn flow(&self, browser: &Browser, flows: &SignInFlows) -> Option<(String, SignInFlow)> {
        let id = self.flow.as_deref()?;
        match flows.get(id, browser.binding()).await {
            Ok(flow) => flow.map(|flow| (id.to_owned(), flow)),
            Err(err) => {
                tracing::warn!(%err, "sign-in flow unreadable");
                None
            }
        }
    }
}

/// Where the browser goes once signed in: on through its `flow` when it has one, else to
/// the page `onward` names.
pub async fn next_after_sign_in(
    flows: &SignInFlows,
    onward: &Onward,
    flow: Option<(String, SignInFlow)>,
    browser: &Browser,
) -> String {
    match flow {
        Some((id, flow)) => after_sign_in(flows, &id, flow, browser).await,
        None => destination(onward.return_to.as_deref()).to_owned(),
    }
}

/// Where the browser goes once signed in through the flow `id`: its page (the flow is
/// done), or on to the authorization it resumes (the flow, marked signed in, goes along).
/// An upstream identity the flow was waiting to link to the account signed in to is
/// linked first.
pub async fn after_sign_in(flows: &SignInFlows, id: &str, flow: SignInFlow, browser: &Browser) -> String {
    if let Some(session) = &browser.session {
        if let Err(err) = flows.link_pending(&flow, session.sub, &browser.origin).await {
            tracing::warn!(%err, "the identity waiting for this sign-in was not linked");
        }
    }
    let flow = SignInFlow { link: None, ..flow };
    match &flow.then {
        Then::Page(to) => {
            flows.finish(id).await;
            destination(to.as_deref()).to_owned()
        }
        Then::Authorization(_) => {
            if let Err(err) = flows.save(id, &flow.at(Stage::SignedIn)).await {
                tracing::warn!(%err, "sign-in flow not advanced; the authorization starts over");
            }
            format!("/oauth2/authorize/resume?flow={}", urlencode(id))
        }
    }
}
