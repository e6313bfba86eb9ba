//! Token use cases: authenticating a bearer, refreshing, logging out, introspection.

use subtle::ConstantTimeEq as _;
use uuid::Uuid;

use super::login::Credential;
use super::Core;
use crate::actors::sessions::SessionMsg;
use crate::domain::token::Claims;
use crate::domain::AuthError;

/// What `POST /token/introspect` reports.
#[derive(Debug, Clone)]
pub struct Introspection {
    /// The claims, when the token is active (valid, unexpired, not revoked).
    pub active: Option<Claims>,
}

impl Core {
    /// Accepts a bearer token only if it is well signed, unexpired and not revoked here;
    /// the revocation check is a memory read, never a network round trip.
    pub fn authenticate(&self, token: &str) -> Result<Claims, AuthError> {
        let claims = self.signer.verify(token)?;
        claims.ensure_unexpired(self.clock.unix_now())?;
        if self.revoked.is_revoked(claims.sid, claims.jti) {
            return Err(AuthError::InvalidToken);
        }
        Ok(claims)
    }

    /// Rotates `token` within its session. `header_token`, when the client also sent one,
    /// must be the same token.
    pub async fn refresh(&self, token: &str, header_token: Option<&str>) -> Result<Credential, AuthError> {
        if let Some(header_token) = header_token {
            if !bool::from(header_token.as_bytes().ct_eq(token.as_bytes())) {
                return Err(AuthError::TokenMismatch);
            }
        }
        let claims = self.signer.verify(token)?;
        claims.ensure_unexpired(self.clock.unix_now())?;
        let refreshed = self
            .actors
            .sessions
            .call(|reply| SessionMsg::Refresh { claims, reply })
            .await??;
        Ok(self.credential(refreshed.holder, refreshed.token))
    }

    /// Ends the caller's session.
    pub async fn logout(&self, caller: &Claims) -> Result<(), AuthError> {
        let sid = caller.sid;
        self.actors
            .sessions
            .call(|reply| SessionMsg::Close { sid, reply })
            .await?
    }

    /// Ends every session of the caller.
    pub async fn logout_everywhere(&self, caller: &Claims) -> Result<(), AuthError> {
        self.end_sessions(caller.sub, None).await
    }

    /// Ends every session of a user but `except`, on every instance.
    pub(crate) async fn end_sessions(&self, user_id: Uuid, except: Option<Uuid>) -> Result<(), AuthError> {
        self.actors
            .sessions
            .call(|reply| SessionMsg::CloseAll { user_id, except, reply })
            .await?
    }

    /// Tells another service whether a token is still good.
    pub fn introspect(&self, token: &str) -> Introspection {
        Introspection {
            active: self.authenticate(token).ok(),
        }
    }
}
