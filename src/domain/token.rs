//! The claims an access token carries, and the rules for reading them.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::AuthError;

/// JWT claims, exactly as the contract names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: Uuid,
    /// Session id.
    pub sid: Uuid,
    /// Token id; one per issued token, the unit of rotation and revocation.
    pub jti: Uuid,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
    pub iss: String,
    /// The OpenID Connect client a token was issued to; absent on native tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// The scopes granted to that client, space-separated; absent on native tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `refresh` on an OpenID Connect refresh token, which is never a bearer token.
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub token_use: Option<String>,
}

/// The `use` of a refresh token.
pub const REFRESH_USE: &str = "refresh";

impl Claims {
    /// Rejects a token whose lifetime is over at `now` (Unix seconds).
    pub fn ensure_unexpired(&self, now: i64) -> Result<(), AuthError> {
        if now >= self.exp {
            return Err(AuthError::InvalidToken);
        }
        Ok(())
    }

    /// Seconds left until expiry, never negative.
    pub fn expires_in(&self, now: i64) -> i64 {
        (self.exp - now).max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(iat: i64, exp: i64) -> Claims {
        Claims {
            sub: Uuid::nil(),
            sid: Uuid::nil(),
            jti: Uuid::nil(),
            iat,
            exp,
            iss: "authd".into(),
            aud: None,
            scope: None,
            token_use: None,
        }
    }

    #[test]
    fn a_token_is_expired_from_its_exp_second_on() {
        let c = claims(100, 200);
        assert!(c.ensure_unexpired(199).is_ok());
        assert!(c.ensure_unexpired(200).is_err());
        assert_eq!(c.expires_in(150), 50);
        assert_eq!(c.expires_in(250), 0);
    }
}
