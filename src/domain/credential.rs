//! What a proof of identity earns: a signed token, and the credential a client receives.
//! Shared by the session actor, the MFA actor and the use cases, so it lives here.

use secrecy::SecretString;

use super::token::Claims;
use super::user::User;

/// A signed token and what it says. The token itself is a bearer secret: it never shows
/// in `Debug` output and is wiped from memory when dropped.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: SecretString,
    pub claims: Claims,
}

/// A refresh's answer: the successor token and the account whose session it continues.
#[derive(Debug, Clone)]
pub struct Refreshed {
    pub token: IssuedToken,
    pub holder: Holder,
}

/// What a successful login or refresh hands the client.
#[derive(Debug, Clone)]
pub struct Credential {
    pub holder: Holder,
    pub token: IssuedToken,
    /// Seconds until the token expires.
    pub expires_in: i64,
}

impl Credential {
    /// The credential for `token`, with its remaining lifetime counted from `now`.
    pub fn new(holder: Holder, token: IssuedToken, now: i64) -> Self {
        let expires_in = token.claims.expires_in(now);
        Self {
            holder,
            token,
            expires_in,
        }
    }
}

/// Who a credential is for: what the client is told about the account it signed in to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub id: uuid::Uuid,
    pub name: String,
    pub email: super::user::Email,
}

impl From<&User> for Holder {
    fn from(user: &User) -> Self {
        Self {
            id: user.id,
            name: user.name.clone(),
            email: user.email.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;
    use uuid::Uuid;

    use super::*;

    #[test]
    fn a_token_never_shows_in_debug_output() {
        let token = IssuedToken {
            token: "eyJhbGciOiJFZERTQSJ9.secret.signature".into(),
            claims: Claims {
                sub: Uuid::nil(),
                sid: Uuid::nil(),
                jti: Uuid::nil(),
                iat: 0,
                exp: 60,
                iss: "authd".into(),
                client_id: None,
                aud: None,
                scope: None,
                token_use: None,
            },
        };
        let shown = format!("{token:?}");
        assert!(!shown.contains("secret.signature"), "{shown}");
        assert_eq!(token.token.expose_secret(), "eyJhbGciOiJFZERTQSJ9.secret.signature");
    }
}
