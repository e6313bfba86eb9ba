//! What an account holds, as a whole: its deletion (by its owner with their password, or by
//! an administrator) and its export.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use uuid::Uuid;

use super::audit::Audit;
use super::reauth::Reauthentication;
use super::sessions::Sessions;
use super::throttle::{check_own_password, Throttle};
use super::{account_of, Ports};
use crate::domain::events::{EventKind, Origin, SecurityEvent};
use crate::domain::organization::Role;
use crate::domain::password_policy::check_presented_password;
use crate::domain::profile::Profile;
use crate::domain::session::SessionInfo;
use crate::domain::token::Claims;
use crate::domain::upstream::Identity;
use crate::domain::AuthError;
use crate::ports::{Clock, IdentityStore, OrganizationStore, PasswordHashing, SessionStore, UserStore};

/// Most events an export carries (the newest); retention bounds them anyway.
const EXPORTED_EVENTS: u32 = 10_000;

/// Everything held about one account.
#[derive(Debug)]
pub struct AccountExport {
    pub profile: Profile,
    pub sessions: Vec<SessionInfo>,
    pub events: Vec<SecurityEvent>,
    /// The accounts at upstream providers connected to it.
    pub identities: Vec<Identity>,
    /// Unix seconds.
    pub exported_at: i64,
}

/// Deletes and exports accounts.
pub struct AccountData {
    users: Arc<dyn UserStore>,
    organizations: Arc<dyn OrganizationStore>,
    sessions_store: Arc<dyn SessionStore>,
    identities: Arc<dyn IdentityStore>,
    hasher: Arc<dyn PasswordHashing>,
    clock: Arc<dyn Clock>,
    sessions: Arc<Sessions>,
    audit: Arc<Audit>,
    reauth: Reauthentication,
    /// Wrong passwords at deletion count like sign-in failures.
    throttle: Throttle,
    /// How long a token lives: no token of the account outlives a deletion by more.
    token_ttl: Duration,
}

impl AccountData {
    pub fn new(
        ports: &Ports,
        sessions: Arc<Sessions>,
        audit: Arc<Audit>,
        throttle: Throttle,
        reauth: Reauthentication,
        token_ttl: Duration,
    ) -> Self {
        Self {
            throttle,
            reauth,
            users: ports.users.clone(),
            organizations: ports.organizations.clone(),
            sessions_store: ports.sessions.clone(),
            identities: ports.identities.clone(),
            hasher: ports.hasher.clone(),
            clock: ports.clock.clone(),
            sessions,
            audit,
            token_ttl,
        }
    }

    /// Deletes the caller's account once their password is confirmed (the confirmation is
    /// the recent authentication this needs); wrong passwords are throttled like `/login`,
    /// so a token holder cannot test passwords here.
    /// An account without a password (made through an upstream provider) needs recent
    /// authentication instead.
    pub async fn delete_own(&self, caller: &Claims, password: SecretString, origin: &Origin) -> Result<(), AuthError> {
        let user = account_of(self.users.as_ref(), caller).await?;
        if user.has_password() {
            check_presented_password("password", password.expose_secret())?;
            check_own_password(&self.throttle, self.hasher.as_ref(), &user, password, origin.ip).await?;
        } else {
            self.reauth.ensure_recent(caller).await?;
        }
        self.erase(user.id, "self", Some(origin)).await
    }

    /// Deletes another account; administrators only.
    pub async fn delete_other(&self, caller: &Claims, user_id: Uuid, origin: &Origin) -> Result<(), AuthError> {
        if !account_of(self.users.as_ref(), caller).await?.is_admin {
            return Err(AuthError::Forbidden("only administrators may delete another account"));
        }
        self.erase(user_id, "admin", Some(origin)).await
    }

    /// Deletes an account from the command line (no request, so no origin).
    pub async fn delete_by_operator(&self, user_id: Uuid) -> Result<(), AuthError> {
        self.erase(user_id, "operator", None).await
    }

    /// Refuses a sole owner before anything changes; ends the sessions everywhere
    /// (announced at once), then deletes everything in one transaction, which checks
    /// ownership again and logs the revocation of any session opened in between.
    async fn erase(&self, user_id: Uuid, by: &'static str, origin: Option<&Origin>) -> Result<(), AuthError> {
        if self.users.user_by_id(user_id).await?.is_none() {
            return Err(AuthError::NotFound("user"));
        }
        if self.solely_owns_a_shared_organization(user_id).await? {
            return Err(AuthError::SoleOwner);
        }
        let now = self.clock.unix_now();
        let mut event =
            SecurityEvent::new(EventKind::UserDeleted, Some(user_id), self.clock.stamp_at(now)).with("by", by);
        if let Some(origin) = origin {
            event = event.from(origin);
        }
        self.sessions.end_all(user_id, None).await?;
        self.users
            .delete_user(user_id, now + self.token_ttl.as_secs() as i64, now, &event)
            .await??;
        Ok(())
    }

    async fn solely_owns_a_shared_organization(&self, user_id: Uuid) -> Result<bool, AuthError> {
        for (organization, role) in self.organizations.organizations_of(user_id).await? {
            if role != Role::Owner {
                continue;
            }
            let members = self.organizations.members(organization.id).await?;
            let owners = members.iter().filter(|m| m.role == Role::Owner).count();
            if owners == 1 && members.len() > 1 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Everything held about the caller: the profile (with factors and organizations), the
    /// live sessions and the events. The HTTP layer shows it without any secret or digest.
    pub async fn export(&self, caller: &Claims) -> Result<AccountExport, AuthError> {
        let profile = self.users.profile(caller.sub).await?.ok_or(AuthError::InvalidToken)?;
        let now = self.clock.unix_now();
        Ok(AccountExport {
            profile,
            sessions: self.sessions_store.live_sessions(caller.sub, now).await?,
            events: self.audit.everything_about(caller.sub, EXPORTED_EVENTS).await?,
            identities: self.identities.identities_of(caller.sub).await?,
            exported_at: now,
        })
    }
}
