//! Sessions as clients see them: one is opened after any proof of identity (password,
//! second factor), refreshed by rotation, and ended by logout. Every change goes through
//! the session actor, which sequences it (see `actors::sessions`); this service is the one
//! place a sign-in succeeds, so its event (written with the new session) and the
//! new-device notice come from here whatever the proof was.

use std::sync::Arc;

use secrecy::{ExposeSecret as _, SecretString};
use uuid::Uuid;

use super::notices::Notices;
use super::Ports;
use crate::actors::sessions::SessionMsg;
use crate::actors::ActorSlot;
use crate::domain::credential::{Credential, Holder, IssuedToken};
use crate::domain::events::{EventKind, Origin, SecurityEvent};
use crate::domain::notification::SecurityNotice;
use crate::domain::session::{Audience, Opening, SessionInfo, DEVICE_MEMORY_SECS};
use crate::domain::sign_in_method::SignInMethod;
use crate::domain::token::{Claims, REFRESH_USE};
use crate::domain::user::User;
use crate::domain::AuthError;
use crate::ports::{Clock, SessionStore, TokenSigning};

/// Opens, rotates, lists and ends sessions through the session actor.
pub struct Sessions {
    actor: ActorSlot<SessionMsg>,
    store: Arc<dyn SessionStore>,
    signer: Arc<dyn TokenSigning>,
    clock: Arc<dyn Clock>,
    notices: Arc<Notices>,
}

impl Sessions {
    pub fn new(ports: &Ports, actor: ActorSlot<SessionMsg>, notices: Arc<Notices>) -> Self {
        Self {
            actor,
            store: ports.sessions.clone(),
            signer: ports.signer.clone(),
            clock: ports.clock.clone(),
            notices,
        }
    }

    /// Opens a session for a user who has just proved who they are; a device not seen in
    /// the last 30 days gets the owner a notice.
    pub(crate) async fn open(
        &self,
        user: &User,
        method: SignInMethod,
        origin: &Origin,
    ) -> Result<Credential, AuthError> {
        self.open_for(user, method, None, None, origin).await
    }

    /// Opens a session for `user`, who signed in by `method` through the upstream provider
    /// `upstream` when it names one (the sign-in event names it).
    pub(crate) async fn open_by(
        &self,
        user: &User,
        method: SignInMethod,
        upstream: Option<&str>,
        origin: &Origin,
    ) -> Result<Credential, AuthError> {
        self.open_for(user, method, None, upstream, origin).await
    }

    /// Opens a session whose tokens go to an OpenID Connect client (`aud`, `scope`), for a
    /// user who signed in by `method` (carried over from the browser session).
    pub(crate) async fn open_for_client(
        &self,
        user: &User,
        method: SignInMethod,
        audience: Audience,
        origin: &Origin,
    ) -> Result<Credential, AuthError> {
        self.open_for(user, method, Some(audience), None, origin).await
    }

    async fn open_for(
        &self,
        user: &User,
        method: SignInMethod,
        audience: Option<Audience>,
        upstream: Option<&str>,
        origin: &Origin,
    ) -> Result<Credential, AuthError> {
        if user.disabled {
            return Err(AuthError::AccountDisabled);
        }
        let user_id = user.id;
        let now = self.clock.unix_now();
        // A client's session is opened from the client's server, not the person's device.
        let new_device = match self.notices.enabled() && audience.is_none() {
            true => self
                .store
                .sign_in_history(user_id, origin.user_agent.as_deref(), now - DEVICE_MEMORY_SECS)
                .await?
                .warrants_notice(),
            false => false,
        };
        let mut event = SecurityEvent::new(EventKind::LoginSucceeded, Some(user_id), self.clock.stamp_at(now))
            .from(origin)
            .with("method", method.as_str());
        if let Some(audience) = &audience {
            event = event.with("clientId", audience.client_id.clone());
        }
        if let Some(provider) = upstream {
            event = event.with("provider", provider.to_owned());
        }
        let opening = Opening {
            user_id,
            method,
            audience,
        };
        let origin_copy = origin.clone();
        let token = self
            .actor
            .call(|reply| SessionMsg::Open {
                opening,
                origin: origin_copy,
                event,
                reply,
            })
            .await??;
        if new_device {
            let notice = SecurityNotice::NewDevice {
                user_agent: origin.user_agent.clone(),
                ip: origin.ip.to_string(),
            };
            self.notices.tell(&user.email, notice).await;
        }
        Ok(Credential::new(Holder::from(user), token, self.clock.unix_now()))
    }

    /// Rotates `token` within its session. A rotated-away token presented after the grace
    /// interval revokes the session (reuse detection, recorded by the session keeper). A
    /// client's access token is refused: an application refreshes with its refresh token
    /// at the token endpoint, and only when it was granted `offline_access`.
    pub async fn refresh(&self, token: &SecretString, origin: &Origin) -> Result<Credential, AuthError> {
        let claims = self.signer.verify(token.expose_secret())?;
        if claims.token_use.is_some() || claims.client().is_some() {
            return Err(AuthError::InvalidToken);
        }
        claims.ensure_unexpired(self.clock.unix_now())?;
        let origin = origin.clone();
        let refreshed = self
            .actor
            .call(|reply| SessionMsg::Refresh { claims, origin, reply })
            .await??;
        Ok(Credential::new(
            refreshed.holder,
            refreshed.token,
            self.clock.unix_now(),
        ))
    }

    /// The refresh token of an OpenID Connect session's current token: the same token id,
    /// marked `use: refresh` so it is never accepted as a bearer token.
    pub(crate) fn refresh_token_for(&self, access: &Claims) -> SecretString {
        let claims = Claims {
            token_use: Some(REFRESH_USE.to_owned()),
            ..access.clone()
        };
        self.signer.sign(&claims)
    }

    /// Rotates a client's session by its refresh token (same rules as [`Sessions::refresh`]:
    /// one successor, the grace interval, reuse revokes). The refresh token outlives its
    /// paired access token: the session's own lifetime bounds it.
    pub(crate) async fn refresh_for_client(
        &self,
        token: &SecretString,
        client_id: &str,
        origin: &Origin,
    ) -> Result<Credential, AuthError> {
        let claims = self.signer.verify(token.expose_secret())?;
        if claims.token_use.as_deref() != Some(REFRESH_USE) || claims.aud.as_deref() != Some(client_id) {
            return Err(AuthError::InvalidToken);
        }
        let presented = Claims {
            token_use: None,
            ..claims
        };
        let origin = origin.clone();
        let refreshed = self
            .actor
            .call(|reply| SessionMsg::Refresh {
                claims: presented,
                origin,
                reply,
            })
            .await??;
        Ok(Credential::new(
            refreshed.holder,
            refreshed.token,
            self.clock.unix_now(),
        ))
    }

    /// For a client that keeps its token for the person (the hosted pages' cookie): the
    /// successor of `token` once it is past half its lifetime, else `None`, so a browser
    /// in use stays signed in while an idle one expires with its token.
    pub async fn renew_if_due(
        &self,
        token: &SecretString,
        claims: &Claims,
        origin: &Origin,
    ) -> Result<Option<Credential>, AuthError> {
        let half_life = (claims.exp - claims.iat) / 2;
        if self.clock.unix_now() < claims.iat + half_life {
            return Ok(None);
        }
        self.refresh(token, origin).await.map(Some)
    }

    /// The caller's live sessions, newest first.
    pub async fn list(&self, caller: &Claims) -> Result<Vec<SessionInfo>, AuthError> {
        Ok(self.store.live_sessions(caller.sub, self.clock.unix_now()).await?)
    }

    /// Ends one of the caller's live sessions on every instance; any other id is 404.
    pub async fn end(&self, caller: &Claims, sid: Uuid, origin: &Origin) -> Result<(), AuthError> {
        let live = self.list(caller).await?;
        if !live.iter().any(|session| session.id == sid) {
            return Err(AuthError::NotFound("session"));
        }
        self.close(caller.sub, sid, origin, "ended_by_owner").await
    }

    /// Ends the caller's session. A client's token is refused (401): an application ends
    /// what it holds through revocation (RFC 7009) or RP-initiated logout.
    pub async fn logout(&self, caller: &Claims, origin: &Origin) -> Result<(), AuthError> {
        if caller.client().is_some() {
            return Err(AuthError::InvalidToken);
        }
        self.close(caller.sub, caller.sid, origin, "logout").await
    }

    /// How and when the session `sid` signed in (`method`, Unix seconds), while it is live.
    pub(crate) async fn sign_in_of(&self, sid: Uuid) -> Result<Option<(SignInMethod, i64)>, AuthError> {
        let now = self.clock.unix_now();
        Ok(self
            .store
            .session_with_holder(sid)
            .await?
            .filter(|(session, _)| session.revoked_at.is_none() && now < session.expires_at)
            .map(|(session, _)| {
                let signed_in_at = session.audience.as_ref().map_or(session.created_at, |a| a.signed_in_at);
                (session.method, signed_in_at)
            }))
    }

    /// The account a session belongs to, if the session exists.
    pub(crate) async fn owner_of(&self, sid: Uuid) -> Result<Option<Uuid>, AuthError> {
        Ok(self
            .store
            .session_with_holder(sid)
            .await?
            .map(|(session, _)| session.user_id))
    }

    /// Revokes `sid` on every instance with no event of its own (a deleted client's
    /// sessions; the deletion is the record).
    pub(crate) async fn revoke_quietly(&self, sid: Uuid) -> Result<(), AuthError> {
        self.actor
            .call(|reply| SessionMsg::Close {
                sid,
                event: None,
                reply,
            })
            .await?
    }

    /// A token for a client acting for itself (the client credentials grant): no user, no
    /// holder and no session row; its `sid` is the client's own (see [`client_sid`]), so
    /// revoking that revokes every such token of the client.
    pub(crate) fn client_token(
        &self,
        client_id: &str,
        resource: Option<String>,
        scope: String,
        ttl_secs: i64,
    ) -> IssuedToken {
        let now = self.clock.unix_now();
        let sid = client_sid(client_id);
        let claims = Claims {
            sub: sid,
            sid,
            jti: self.clock.new_id(),
            iat: now,
            exp: now + ttl_secs,
            iss: self.signer.issuers().oauth.clone(),
            aud: Some(resource.unwrap_or_else(|| client_id.to_owned())),
            client_id: Some(client_id.to_owned()),
            scope: Some(scope),
            token_use: None,
        };
        IssuedToken {
            token: self.signer.sign(&claims),
            claims,
        }
    }

    /// Ends the session `sid` of `user_id` on every instance, recording `reason`.
    pub(crate) async fn close(
        &self,
        user_id: Uuid,
        sid: Uuid,
        origin: &Origin,
        reason: &'static str,
    ) -> Result<(), AuthError> {
        let event = self.revoked(user_id, origin, reason).with("sessionId", sid.to_string());
        self.actor
            .call(|reply| SessionMsg::Close {
                sid,
                event: Some(event),
                reply,
            })
            .await?
    }

    /// Ends every session of the caller.
    pub async fn logout_everywhere(&self, caller: &Claims, origin: &Origin) -> Result<(), AuthError> {
        if caller.client().is_some() {
            return Err(AuthError::InvalidToken);
        }
        let event = self.revoked(caller.sub, origin, "logout_all");
        self.close_all(caller.sub, None, Some(event)).await
    }

    /// Ends every session of a user but `except`, on every instance (after a password
    /// change or reset, or before the account is deleted; the caller records why).
    pub(crate) async fn end_all(&self, user_id: Uuid, except: Option<Uuid>) -> Result<(), AuthError> {
        self.close_all(user_id, except, None).await
    }

    async fn close_all(
        &self,
        user_id: Uuid,
        except: Option<Uuid>,
        event: Option<SecurityEvent>,
    ) -> Result<(), AuthError> {
        self.actor
            .call(|reply| SessionMsg::CloseAll {
                user_id,
                except,
                event,
                reply,
            })
            .await?
    }

    fn revoked(&self, user_id: Uuid, origin: &Origin, reason: &'static str) -> SecurityEvent {
        SecurityEvent::new(EventKind::SessionRevoked, Some(user_id), self.clock.stamp())
            .from(origin)
            .with("reason", reason)
    }
}

/// The `sub` and `sid` of a client's own tokens: a name-based UUID of its id, the same on
/// every instance.
pub fn client_sid(client_id: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, format!("authd:client:{client_id}").as_bytes())
}
