//! Token revocation (RFC 7009) and introspection (RFC 7662) for clients: a client may
//! revoke the tokens issued to it, and inspect those meant for it: its own, or, for an API
//! registered as a resource (RFC 8707), the tokens other applications got for it.

use std::sync::Arc;

use serde_json::json;

use super::token::{authenticated, TokenError};
use crate::domain::events::Origin;
use crate::domain::oidc::OAuthError;
use crate::ports::TokenSigning;
use crate::usecases::clients::{ClientAuth, OAuthClients};
use crate::usecases::sessions::{client_sid, Sessions};
use crate::usecases::tokens::Tokens;
use crate::usecases::Ports;

/// Revokes and introspects clients' tokens.
pub struct ClientTokens {
    clients: Arc<OAuthClients>,
    signer: Arc<dyn TokenSigning>,
    tokens: Arc<Tokens>,
    sessions: Arc<Sessions>,
}

impl ClientTokens {
    pub fn new(ports: &Ports, clients: Arc<OAuthClients>, tokens: Arc<Tokens>, sessions: Arc<Sessions>) -> Self {
        Self {
            clients,
            signer: ports.signer.clone(),
            tokens,
            sessions,
        }
    }

    /// Revokes `token` (an access or refresh token issued to the client) by ending its
    /// session on every instance; an unknown, foreign or malformed token is answered the
    /// same way (RFC 7009 §2.2). A client credentials token revokes all of the client's own.
    pub async fn revoke(&self, auth: &ClientAuth, token: &str, origin: &Origin) -> Result<(), TokenError> {
        let client = authenticated(&self.clients, auth, false).await?;
        let Ok(claims) = self.signer.verify(token) else {
            return Ok(());
        };
        if claims.client() != Some(client.id.as_str()) {
            return Ok(());
        }
        let ended = match claims.sub == client_sid(&client.id) {
            true => self.sessions.revoke_quietly(claims.sid).await,
            false => {
                self.sessions
                    .close(claims.sub, claims.sid, origin, "revoked_by_client")
                    .await
            }
        };
        ended.map_err(|err| OAuthError::from(err).into())
    }

    /// What RFC 7662 tells a confidential client about an access token whose `aud` names
    /// it (the client itself, or the API it registered as a resource); any other token
    /// (meant for someone else, a refresh token, expired, revoked) is `{"active": false}`.
    pub async fn introspect(&self, auth: &ClientAuth, token: &str) -> Result<serde_json::Value, TokenError> {
        let client = authenticated(&self.clients, auth, true).await?;
        let meant_for_caller =
            |aud: Option<&str>| aud.is_some_and(|aud| aud == client.id || client.resource.as_deref() == Some(aud));
        match self.tokens.authenticate(token) {
            Ok(claims) if meant_for_caller(claims.aud.as_deref()) => Ok(json!({
                "active": true,
                "scope": claims.scope,
                "client_id": claims.client(),
                "token_type": "Bearer",
                "exp": claims.exp,
                "iat": claims.iat,
                "sub": claims.sub,
                "aud": claims.aud,
                "iss": claims.iss,
                "jti": claims.jti,
                "sid": claims.sid,
            })),
            _ => Ok(json!({ "active": false })),
        }
    }
}
