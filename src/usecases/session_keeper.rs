//! The storage side of sessions, as the session actor runs it: open, rotate (with the grace
//! interval and reuse detection of [`Session::decide_refresh`]) and close, each revocation
//! made durable first and then announced to every instance. A rotation's durable record is
//! the session row itself (its new current token); nothing is kept per rotated-away token.

use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use super::Ports;
use crate::actors::revocation::RevocationMsg;
use crate::actors::sessions::SessionLifecycle;
use crate::actors::ActorSlot;
use crate::domain::credential::{Holder, IssuedToken, Refreshed};
use crate::domain::events::{EventKind, Origin, SecurityEvent};
use crate::domain::revocation::{Revocation, RevokedSubject};
use crate::domain::session::{Opening, RefreshDecision, Session, SessionPolicy};
use crate::domain::token::{successor_jti, Claims};
use crate::domain::AuthError;
use crate::ports::{Clock, SessionStore, TokenSigning};
use crate::telemetry::metrics as telemetry;

/// How many times a refresh re-reads the session after losing a race to another rotation.
const ROTATION_ATTEMPTS: usize = 3;

/// Opens, rotates and closes sessions in storage; the session actor's worker.
pub struct SessionKeeper {
    store: Arc<dyn SessionStore>,
    signer: Arc<dyn TokenSigning>,
    clock: Arc<dyn Clock>,
    policy: SessionPolicy,
    revocations: ActorSlot<RevocationMsg>,
}

impl SessionKeeper {
    pub fn new(ports: &Ports, policy: SessionPolicy, revocations: ActorSlot<RevocationMsg>) -> Self {
        Self {
            store: ports.sessions.clone(),
            signer: ports.signer.clone(),
            clock: ports.clock.clone(),
            policy,
            revocations,
        }
    }

    /// No token issued before `now` can live past this.
    fn latest_token_expiry(&self, now: i64) -> i64 {
        now + self.policy.token_ttl.as_secs() as i64
    }

    fn issue(&self, session: &Session) -> IssuedToken {
        let claims = session.current_claims(self.signer.issuers());
        IssuedToken {
            token: self.signer.sign(&claims),
            claims,
        }
    }

    /// After a rotation to `session`'s current token: announces it as one entry per session,
    /// replaced by the session's next rotation (every earlier token of the session is
    /// refused, whatever the refresh rate), and issues the token.
    async fn rotated(&self, session: &Session, holder: Holder) -> Refreshed {
        let rotated_away = Revocation {
            subject: RevokedSubject::Superseded {
                session: session.id,
                current: session.current.jti,
            },
            until: session.current.expires_at,
        };
        self.announce(vec![rotated_away]).await;
        metrics::counter!(telemetry::TOKENS_ISSUED).increment(1);
        metrics::counter!(telemetry::TOKENS_REFRESHED).increment(1);
        Refreshed {
            token: self.issue(session),
            holder,
        }
    }

    /// The revocations are durable already; waits until they hold on this instance and the
    /// actor spreads them. If it is down, the periodic catch-up from the database still gets
    /// them everywhere.
    async fn announce(&self, revocations: Vec<Revocation>) {
        if revocations.is_empty() {
            return;
        }
        metrics::counter!(telemetry::TOKENS_REVOKED).increment(revocations.len() as u64);
        let announced = self
            .revocations
            .call(|applied| RevocationMsg::Announce(revocations, applied))
            .await;
        if let Err(err) = announced {
            tracing::warn!(%err, "revocation actor unavailable; relying on catch-up");
        }
    }
}

#[async_trait]
impl SessionLifecycle for SessionKeeper {
    async fn open(&self, opening: Opening, origin: Origin, event: SecurityEvent) -> Result<IssuedToken, AuthError> {
        let now = self.clock.unix_now();
        let session = Session {
            method: opening.method,
            audience: opening.audience,
            ..Session::start(
                self.clock.new_id(),
                opening.user_id,
                self.clock.new_id(),
                now,
                &self.policy,
            )
        };
        let event = event.with("sessionId", session.id.to_string());
        self.store.insert_session(&session, &origin, &event).await?;
        metrics::counter!(telemetry::TOKENS_ISSUED).increment(1);
        Ok(self.issue(&session))
    }

    async fn refresh(&self, presented: Claims, origin: Origin) -> Result<Refreshed, AuthError> {
        // The common case in one statement: the presented token is current and the
        // session live. Anything else (a retry within the grace interval, reuse, an ended
        // session) reads the session and lets the domain decide.
        let now = self.clock.unix_now();
        let next = self
            .policy
            .successor_grant(successor_jti(presented.jti, self.clock.new_id()), now);
        if let Some((session, holder)) = self
            .store
            .rotate_if_current(presented.sid, presented.jti, &next, now)
            .await?
        {
            return Ok(self.rotated(&session, holder).await);
        }
        for _ in 0..ROTATION_ATTEMPTS {
            let now = self.clock.unix_now();
            let (session, holder) = self
                .store
                .session_with_holder(presented.sid)
                .await?
                .ok_or(AuthError::InvalidToken)?;
            let successor = successor_jti(presented.jti, self.clock.new_id());
            match session.decide_refresh(&presented, successor, now, &self.policy) {
                RefreshDecision::Rotate(next) => {
                    if self.store.rotate_session(session.id, presented.jti, &next, now).await? {
                        return Ok(self.rotated(&session.rotate(next, now), holder).await);
                    }
                }
                RefreshDecision::ReturnCurrent => {
                    return Ok(Refreshed {
                        token: self.issue(&session),
                        holder,
                    })
                }
                RefreshDecision::ReuseDetected => {
                    tracing::warn!(sid = %session.id, "rotated-away token reused; revoking the session");
                    metrics::counter!(telemetry::TOKEN_REUSE).increment(1);
                    let event = SecurityEvent::new(
                        EventKind::SessionReuseDetected,
                        Some(session.user_id),
                        self.clock.stamp_at(now),
                    )
                    .from(&origin)
                    .with("sessionId", session.id.to_string());
                    self.close(session.id, Some(event)).await?;
                    return Err(AuthError::TokenReused);
                }
                RefreshDecision::Reject => return Err(AuthError::InvalidToken),
            }
        }
        Err(AuthError::Unavailable("session store"))
    }

    async fn close(&self, sid: Uuid, event: Option<SecurityEvent>) -> Result<(), AuthError> {
        let now = self.clock.unix_now();
        let revocation = Revocation {
            subject: RevokedSubject::Session(sid),
            until: self.latest_token_expiry(now),
        };
        self.store.revoke_session(sid, revocation, now, event.as_ref()).await?;
        self.announce(vec![revocation]).await;
        Ok(())
    }

    async fn close_all(
        &self,
        user_id: Uuid,
        except: Option<Uuid>,
        event: Option<SecurityEvent>,
    ) -> Result<(), AuthError> {
        let now = self.clock.unix_now();
        let revocations = self
            .store
            .revoke_user_sessions(user_id, except, self.latest_token_expiry(now), now, event.as_ref())
            .await?;
        self.announce(revocations).await;
        Ok(())
    }
}
