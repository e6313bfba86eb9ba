//! Everything the account page shows at once: the profile with its factors and
//! organizations, the live sessions, the latest security events, the consents given to
//! applications and the connected accounts at upstream providers. It reads through the
//! services that own each part, so the page shows what the API would.

use std::sync::Arc;

use super::accounts::Accounts;
use super::audit::Audit;
use super::clients::OAuthClients;
use super::connected_accounts::ConnectedAccounts;
use super::sessions::Sessions;
use crate::domain::events::SecurityEvent;
use crate::domain::profile::Profile;
use crate::domain::session::SessionInfo;
use crate::domain::token::Claims;
use crate::domain::upstream::Identity;
use crate::domain::AuthError;
use crate::ports::Consent;

/// How many of the latest events the account page lists.
pub const RECENT_EVENTS: u32 = 15;

/// The caller's account as the account page shows it.
#[derive(Debug)]
pub struct Overview {
    pub profile: Profile,
    /// Newest first.
    pub sessions: Vec<SessionInfo>,
    /// Newest first, at most [`RECENT_EVENTS`].
    pub events: Vec<SecurityEvent>,
    /// What the user allowed third-party applications, newest first.
    pub consents: Vec<Consent>,
    /// The accounts at upstream providers connected to this one, oldest first.
    pub identities: Vec<Identity>,
}

/// Gathers an [`Overview`].
pub struct AccountOverview {
    accounts: Arc<Accounts>,
    sessions: Arc<Sessions>,
    audit: Arc<Audit>,
    clients: Arc<OAuthClients>,
    connected: Arc<ConnectedAccounts>,
}

impl AccountOverview {
    pub fn new(
        accounts: Arc<Accounts>,
        sessions: Arc<Sessions>,
        audit: Arc<Audit>,
        clients: Arc<OAuthClients>,
        connected: Arc<ConnectedAccounts>,
    ) -> Self {
        Self {
            accounts,
            sessions,
            audit,
            clients,
            connected,
        }
    }

    /// The caller's profile, live sessions and recent events.
    pub async fn of(&self, caller: &Claims) -> Result<Overview, AuthError> {
        let (profile, sessions, events, consents, identities) = tokio::try_join!(
            self.accounts.profile(caller),
            self.sessions.list(caller),
            self.audit.own_events(caller, Some(RECENT_EVENTS), None),
            self.clients.consents(caller),
            self.connected.list(caller),
        )?;
        Ok(Overview {
            profile,
            sessions,
            events: events.events,
            consents,
            identities,
        })
    }
}
