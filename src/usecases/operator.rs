//! What an operator does from the command line, straight on the database, for when the
//! HTTP API is out of reach: find and list accounts, disable and enable them, end their
//! sessions, delete them. No caller is checked: whoever runs `authd` with the deployment's
//! configuration holds its database already. Revocations go through the session actor, so
//! running instances learn of them as if they came from the API.

use std::sync::Arc;

use uuid::Uuid;

use super::account_data::AccountData;
use super::sessions::Sessions;
use super::Ports;
use crate::domain::events::{EventKind, SecurityEvent};
use crate::domain::profile::Profile;
use crate::domain::user::{Email, User};
use crate::domain::AuthError;
use crate::ports::{Clock, SecurityEvents, UserStore};

/// Operator commands over accounts.
pub struct Operator {
    users: Arc<dyn UserStore>,
    events: Arc<dyn SecurityEvents>,
    clock: Arc<dyn Clock>,
    sessions: Arc<Sessions>,
    data: Arc<AccountData>,
}

impl Operator {
    pub fn new(ports: &Ports, sessions: Arc<Sessions>, data: Arc<AccountData>) -> Self {
        Self {
            users: ports.users.clone(),
            events: ports.events.clone(),
            clock: ports.clock.clone(),
            sessions,
            data,
        }
    }

    /// The account named by its id or its e-mail address.
    pub async fn find(&self, who: &str) -> Result<User, AuthError> {
        let found = match Uuid::parse_str(who) {
            Ok(id) => self.users.user_by_id(id).await?,
            Err(_) => self.users.user_by_email(&Email::parse(who)?).await?,
        };
        found.ok_or(AuthError::NotFound("user"))
    }

    /// Accounts in creation order, after `after`.
    pub async fn list(&self, after: Option<Uuid>, limit: u32) -> Result<Vec<User>, AuthError> {
        Ok(self.users.list_users(after, limit).await?)
    }

    /// The account with its organizations and factors.
    pub async fn show(&self, who: &str) -> Result<Profile, AuthError> {
        let user = self.find(who).await?;
        self.users.profile(user.id).await?.ok_or(AuthError::NotFound("user"))
    }

    /// Disables the account and ends its sessions everywhere, or enables it again.
    pub async fn set_disabled(&self, who: &str, disabled: bool) -> Result<User, AuthError> {
        let user = self.find(who).await?;
        let event = SecurityEvent::new(EventKind::UserUpdated, Some(user.id), self.clock.stamp())
            .with("disabled", disabled)
            .with("by", "operator");
        if !self
            .users
            .set_disabled(user.id, disabled, self.clock.unix_now(), &event)
            .await?
        {
            return Err(AuthError::NotFound("user"));
        }
        if disabled {
            self.sessions.end_all(user.id, None).await?;
        }
        Ok(user)
    }

    /// Ends every session of the account on every instance.
    pub async fn revoke_sessions(&self, who: &str) -> Result<User, AuthError> {
        let user = self.find(who).await?;
        self.sessions.end_all(user.id, None).await?;
        let event =
            SecurityEvent::new(EventKind::SessionRevoked, Some(user.id), self.clock.stamp()).with("reason", "operator");
        self.events.record(event).await;
        Ok(user)
    }

    /// Deletes the account and everything held about it (refused for a sole owner).
    pub async fn delete(&self, who: &str) -> Result<User, AuthError> {
        let user = self.find(who).await?;
        self.data.delete_by_operator(user.id).await?;
        Ok(user)
    }
}
