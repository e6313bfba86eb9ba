//! The accounts at upstream providers connected to a person's account: listed, and
//! disconnected (a sensitive change: recent authentication, and never the last way in).

use std::sync::Arc;

use uuid::Uuid;

use super::reauth::Reauthentication;
use super::{account_of, Ports};
use crate::domain::events::{EventKind, Origin, SecurityEvent};
use crate::domain::token::Claims;
use crate::domain::upstream::{Identity, ProviderId, UpstreamRefusal};
use crate::domain::AuthError;
use crate::ports::{Clock, IdentityStore, PasskeyStore, UserStore};

/// Lists and disconnects the caller's upstream identities.
pub struct ConnectedAccounts {
    identities: Arc<dyn IdentityStore>,
    users: Arc<dyn UserStore>,
    passkeys: Arc<dyn PasskeyStore>,
    clock: Arc<dyn Clock>,
    reauth: Reauthentication,
}

impl ConnectedAccounts {
    pub fn new(ports: &Ports, reauth: Reauthentication) -> Self {
        Self {
            identities: ports.identities.clone(),
            users: ports.users.clone(),
            passkeys: ports.passkeys.clone(),
            clock: ports.clock.clone(),
            reauth,
        }
    }

    /// The caller's connected accounts, oldest first.
    pub async fn list(&self, caller: &Claims) -> Result<Vec<Identity>, AuthError> {
        Ok(self.identities.identities_of(caller.sub).await?)
    }

    /// Disconnects the caller's identity `id`: refused without recent authentication, and
    /// (`last_credential`) when the account would be left without a password, a passkey
    /// or another identity. Sign-in by an e-mailed code does not count as a way in.
    pub async fn disconnect(&self, caller: &Claims, id: Uuid, origin: &Origin) -> Result<(), AuthError> {
        let user = account_of(self.users.as_ref(), caller).await?;
        let identities = self.identities.identities_of(user.id).await?;
        let identity = identities
            .iter()
            .find(|identity| identity.id == id)
            .ok_or(AuthError::NotFound("identity"))?;
        self.reauth.ensure_recent(caller).await?;
        let has_passkey = self.passkeys.passkeys_of(user.id).await?.iter().any(|p| p.enabled);
        if !user.has_password() && !has_passkey && identities.len() == 1 {
            return Err(AuthError::LastCredential);
        }
        let event = SecurityEvent::new(EventKind::IdentityUnlinked, Some(user.id), self.clock.stamp())
            .from(origin)
            .with("identityId", id.to_string())
            .with("provider", identity.provider.as_str());
        match self.identities.unlink_identity(user.id, id, &event).await? {
            true => Ok(()),
            false => Err(AuthError::NotFound("identity")),
        }
    }
}

/// Links `subject` at `provider` to `user_id`, recording `identity.linked`; linked to
/// another account already, it is refused.
pub(crate) async fn link_identity(
    identities: &dyn IdentityStore,
    clock: &dyn Clock,
    user_id: Uuid,
    provider: &str,
    subject: &str,
    email: Option<String>,
    origin: Option<&Origin>,
) -> Result<(), AuthError> {
    let provider = ProviderId::parse(provider).map_err(|_| AuthError::Upstream(UpstreamRefusal::BadState))?;
    let now = clock.unix_now();
    let identity = Identity {
        id: clock.new_id(),
        user_id,
        provider: provider.clone(),
        subject: subject.to_owned(),
        email,
        created_at: now,
        last_used_at: Some(now),
    };
    let mut event = SecurityEvent::new(EventKind::IdentityLinked, Some(user_id), clock.stamp_at(now))
        .with("identityId", identity.id.to_string())
        .with("provider", provider.as_str());
    if let Some(origin) = origin {
        event = event.from(origin);
    }
    if identities.link_identity(&identity, &event).await? {
        return Ok(());
    }
    match identities.identity(&provider, subject).await? {
        Some(existing) if existing.user_id == user_id => Ok(()),
        _ => Err(AuthError::Upstream(UpstreamRefusal::LinkedElsewhere)),
    }
}
