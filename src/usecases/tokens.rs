//! Bearer tokens: authenticating a request, introspection for other services, and the
//! public keys that verify this server's tokens.

use std::sync::Arc;

use super::Ports;
use crate::actors::revocation::RevocationView;
use crate::domain::token::{Claims, Reach};
use crate::domain::AuthError;
use crate::ports::{Clock, IdTokenSigning, TokenSigning};

/// What `POST /token/introspect` reports.
#[derive(Debug, Clone)]
pub struct Introspection {
    /// The claims, when the token is active (valid, unexpired, not revoked).
    pub active: Option<Claims>,
}

/// Checks bearer tokens: signature, expiry and revocation.
pub struct Tokens {
    signer: Arc<dyn TokenSigning>,
    id_tokens: Arc<dyn IdTokenSigning>,
    clock: Arc<dyn Clock>,
    revoked: RevocationView,
}

impl Tokens {
    pub fn new(ports: &Ports, revoked: RevocationView) -> Self {
        Self {
            signer: ports.signer.clone(),
            id_tokens: ports.id_tokens.clone(),
            clock: ports.clock.clone(),
            revoked,
        }
    }

    /// A caller of the native API: a session token, or the token of a first-party client
    /// granted [`API_SCOPE`](crate::domain::token::API_SCOPE); any other client's token is
    /// 401 `invalid_token` (RFC 9068 §4: the audience is checked).
    pub fn authenticate_for_api(&self, token: &str) -> Result<Claims, AuthError> {
        let claims = self.authenticate(token)?;
        match claims.reach() {
            Reach::Native | Reach::ClientWithApi => Ok(claims),
            Reach::Client => Err(AuthError::InvalidToken),
        }
    }

    /// A native session's token only (the pages' cookie, refresh and logout).
    pub fn authenticate_session(&self, token: &str) -> Result<Claims, AuthError> {
        let claims = self.authenticate(token)?;
        match claims.reach() {
            Reach::Native => Ok(claims),
            Reach::ClientWithApi | Reach::Client => Err(AuthError::InvalidToken),
        }
    }

    /// Accepts any access token of this server (a session's or a client's) only if it is
    /// well signed, unexpired and not revoked here; the revocation check is a memory read,
    /// never a network round trip. What the token may reach is the caller's to check.
    pub fn authenticate(&self, token: &str) -> Result<Claims, AuthError> {
        let claims = self.signer.verify(token)?;
        if claims.token_use.is_some() {
            return Err(AuthError::InvalidToken);
        }
        claims.ensure_unexpired(self.clock.unix_now())?;
        if self.revoked.is_revoked(claims.sid, claims.jti) {
            return Err(AuthError::InvalidToken);
        }
        Ok(claims)
    }

    /// Tells another service whether a token is still good.
    pub fn introspect(&self, token: &str) -> Introspection {
        Introspection {
            active: self.authenticate(token).ok(),
        }
    }

    /// The JSON Web Key Set other services verify tokens with: the Ed25519 keys of access
    /// tokens (and EdDSA ID tokens), then the RSA keys of RS256 ID tokens.
    pub fn jwks(&self) -> serde_json::Value {
        let mut set = self.signer.jwks();
        if let Some(keys) = set["keys"].as_array_mut() {
            keys.extend(self.id_tokens.rsa_public_keys());
        }
        set
    }
}
