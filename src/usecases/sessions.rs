//! Sessions as clients see them: one is opened after any proof of identity (password,
//! second factor), refreshed by rotation, and ended by logout. Every change goes through
//! the session actor, which sequences it (see `actors::sessions`); this service is the one
//! place a sign-in succeeds, so its event is recorded here whatever the proof was.

use std::sync::Arc;

use secrecy::{ExposeSecret as _, SecretString};
use uuid::Uuid;

use super::Ports;
use crate::actors::sessions::SessionMsg;
use crate::actors::ActorSlot;
use crate::domain::credential::{Credential, Holder};
use crate::domain::events::{EventKind, Origin, SecurityEvent};
use crate::domain::token::Claims;
use crate::domain::user::User;
use crate::domain::AuthError;
use crate::ports::{Clock, SecurityEvents, TokenSigning};

/// How an account proved who it is, for the sign-in event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// Email and password, with no second factor enrolled.
    Password,
    /// Password, then the named second factor.
    SecondFactor(&'static str),
}

impl Proof {
    fn as_str(self) -> &'static str {
        match self {
            Proof::Password => "password",
            Proof::SecondFactor(strategy) => strategy,
        }
    }
}

/// Opens, rotates and ends sessions through the session actor.
pub struct Sessions {
    actor: ActorSlot<SessionMsg>,
    signer: Arc<dyn TokenSigning>,
    clock: Arc<dyn Clock>,
    events: Arc<dyn SecurityEvents>,
}

impl Sessions {
    pub fn new(ports: &Ports, actor: ActorSlot<SessionMsg>) -> Self {
        Self {
            actor,
            signer: ports.signer.clone(),
            clock: ports.clock.clone(),
            events: ports.events.clone(),
        }
    }

    /// Opens a session for a user who has just proved who they are.
    pub(crate) async fn open(&self, user: &User, proof: Proof, origin: &Origin) -> Result<Credential, AuthError> {
        let user_id = user.id;
        let token = self.actor.call(|reply| SessionMsg::Open { user_id, reply }).await??;
        let now = self.clock.unix_now();
        let event = SecurityEvent::new(EventKind::LoginSucceeded, Some(user_id), now)
            .from(origin)
            .with("method", proof.as_str())
            .with("sessionId", token.claims.sid.to_string());
        self.events.record(event).await;
        Ok(Credential::new(Holder::from(user), token, now))
    }

    /// Rotates `token` within its session. A rotated-away token presented after the grace
    /// interval revokes the session (reuse detection).
    pub async fn refresh(&self, token: &SecretString, origin: &Origin) -> Result<Credential, AuthError> {
        let claims = self.signer.verify(token.expose_secret())?;
        claims.ensure_unexpired(self.clock.unix_now())?;
        let (sid, sub) = (claims.sid, claims.sub);
        let refreshed = self.actor.call(|reply| SessionMsg::Refresh { claims, reply }).await?;
        match refreshed {
            Ok(refreshed) => Ok(Credential::new(
                refreshed.holder,
                refreshed.token,
                self.clock.unix_now(),
            )),
            Err(AuthError::TokenReused) => {
                let event = SecurityEvent::new(EventKind::SessionReuseDetected, Some(sub), self.clock.unix_now())
                    .from(origin)
                    .with("sessionId", sid.to_string());
                self.events.record(event).await;
                Err(AuthError::TokenReused)
            }
            Err(err) => Err(err),
        }
    }

    /// Ends the caller's session.
    pub async fn logout(&self, caller: &Claims, origin: &Origin) -> Result<(), AuthError> {
        let sid = caller.sid;
        self.actor.call(|reply| SessionMsg::Close { sid, reply }).await??;
        self.revoked(caller.sub, origin, "logout").await;
        Ok(())
    }

    /// Ends every session of the caller.
    pub async fn logout_everywhere(&self, caller: &Claims, origin: &Origin) -> Result<(), AuthError> {
        self.end_all(caller.sub, None).await?;
        self.revoked(caller.sub, origin, "logout_all").await;
        Ok(())
    }

    /// Ends every session of a user but `except`, on every instance (after a password
    /// change or reset; the caller records why).
    pub(crate) async fn end_all(&self, user_id: Uuid, except: Option<Uuid>) -> Result<(), AuthError> {
        self.actor
            .call(|reply| SessionMsg::CloseAll { user_id, except, reply })
            .await?
    }

    async fn revoked(&self, user_id: Uuid, origin: &Origin, reason: &'static str) {
        let event = SecurityEvent::new(EventKind::SessionRevoked, Some(user_id), self.clock.unix_now())
            .from(origin)
            .with("reason", reason);
        self.events.record(event).await;
    }
}
