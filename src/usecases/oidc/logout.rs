//! RP-Initiated Logout 1.0: an application sends the browser here to sign the person out.
//! With a valid `id_token_hint` (an ID token this provider signed) the browser's session and
//! the session the hint names end at once, and the browser may go back to a registered
//! `post_logout_redirect_uri`; without one the person is asked first, so another site
//! cannot sign them out by a link.

use std::sync::Arc;

use url::Url;
use uuid::Uuid;

use super::Issuer;
use crate::domain::events::Origin;
use crate::domain::token::Claims;
use crate::ports::{ClientStore, IdTokenSigning};
use crate::usecases::sessions::Sessions;
use crate::usecases::Ports;

/// A logout request's parameters, as sent.
#[derive(Debug, Clone, Default)]
pub struct LogoutRequest {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<String>,
}

/// What the logout endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutOutcome {
    /// Signed out; send the browser back to the application.
    Redirect(String),
    /// Signed out; say so here.
    SignedOut,
    /// No valid hint: ask the person before signing them out.
    Confirm,
    /// The redirect URI is not registered for the client: nothing is sent there.
    Refuse(String),
    /// The clients could not be read: nothing is decided (503).
    Unavailable,
}

/// Ends sessions at an application's request.
pub struct RpLogout {
    clients: Arc<dyn ClientStore>,
    id_tokens: Arc<dyn IdTokenSigning>,
    sessions: Arc<Sessions>,
    issuer: Issuer,
}

impl RpLogout {
    pub fn new(ports: &Ports, sessions: Arc<Sessions>, issuer: Issuer) -> Self {
        Self {
            clients: ports.clients.clone(),
            id_tokens: ports.id_tokens.clone(),
            sessions,
            issuer,
        }
    }

    /// Decides `request` for the browser signed in as `browser`.
    pub async fn logout(&self, request: &LogoutRequest, browser: Option<&Claims>, origin: &Origin) -> LogoutOutcome {
        let hint = request
            .id_token_hint
            .as_deref()
            .and_then(|token| self.id_tokens.verify_id_token(token))
            .filter(|claims| claims["iss"] == self.issuer.as_str());
        let Some(hint) = hint else {
            return LogoutOutcome::Confirm;
        };
        let client_id = hint["aud"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| request.client_id.clone());
        let back = match request.post_logout_redirect_uri.as_deref() {
            None => None,
            Some(uri) => {
                let client = match client_id.as_deref() {
                    Some(id) => match self.clients.client(id).await {
                        Ok(client) => client,
                        Err(err) => {
                            tracing::warn!(%err, "logout: clients unavailable");
                            return LogoutOutcome::Unavailable;
                        }
                    },
                    None => None,
                };
                match client.filter(|c| c.returns_after_logout_to(uri)) {
                    Some(_) => Some(uri.to_owned()),
                    None => {
                        return LogoutOutcome::Refuse(
                            "The application asked to return to an address it has not registered.".into(),
                        )
                    }
                }
            }
        };
        if let Some(claims) = browser {
            if let Err(err) = self.sessions.logout(claims, origin).await {
                tracing::warn!(%err, "the browser session did not end at logout");
            }
        }
        let hinted = (hint["sub"].as_str(), hint["sid"].as_str());
        if let (Some(Ok(user)), Some(Ok(sid))) = (hinted.0.map(Uuid::parse_str), hinted.1.map(Uuid::parse_str)) {
            if let Err(err) = self.sessions.close(user, sid, origin, "rp_logout").await {
                tracing::debug!(%err, "the hinted session was already over");
            }
        }
        match back {
            Some(uri) => {
                let mut url = Url::parse(&uri).expect("registered URIs are absolute");
                if let Some(state) = &request.state {
                    url.query_pairs_mut().append_pair("state", state);
                }
                LogoutOutcome::Redirect(url.into())
            }
            None => LogoutOutcome::SignedOut,
        }
    }
}
