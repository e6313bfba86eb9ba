//! Tokens whose signature has already been checked, or that this instance signed. A client
//! sends the same token with every request for up to an hour, and an Ed25519 verification
//! costs more than the rest of a `GET /user/me` together; a hash lookup of the exact token
//! string replaces it.
//!
//! Only the signature check is remembered: expiry and revocation are checked on every
//! request by the caller. The map is bounded; when it is full it starts over, so more
//! active tokens than its capacity only cost their verifications again.

use std::collections::HashMap;

use parking_lot::RwLock;

use crate::domain::token::Claims;

/// Tokens kept at most; about 0.5 KiB each.
pub const CAPACITY: usize = 16_384;

/// The claims of tokens whose signature verified, by the exact token text.
#[derive(Default)]
pub struct VerifiedTokens {
    entries: RwLock<HashMap<Box<str>, Claims>>,
}

impl VerifiedTokens {
    pub fn get(&self, token: &str) -> Option<Claims> {
        self.entries.read().get(token).cloned()
    }

    /// Remembers a token whose signature, algorithm and issuer were just checked.
    pub fn remember(&self, token: &str, claims: &Claims) {
        let mut entries = self.entries.write();
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(token.into(), claims.clone());
    }

    pub fn len(&self) -> usize {
        self.entries.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn claims() -> Claims {
        Claims {
            sub: Uuid::new_v4(),
            sid: Uuid::new_v4(),
            jti: Uuid::new_v4(),
            iat: 0,
            exp: 60,
            iss: "authd".into(),
            client_id: None,
            aud: None,
            scope: None,
            token_use: None,
        }
    }

    #[test]
    fn only_the_exact_token_is_found() {
        let verified = VerifiedTokens::default();
        let claims = claims();
        verified.remember("a.b.c", &claims);
        assert_eq!(verified.get("a.b.c"), Some(claims));
        assert_eq!(verified.get("a.b.d"), None);
        assert_eq!(verified.get("a.b.c "), None);
    }

    #[test]
    fn it_never_grows_past_its_capacity() {
        let verified = VerifiedTokens::default();
        let claims = claims();
        for i in 0..CAPACITY + 10 {
            verified.remember(&format!("token-{i}"), &claims);
        }
        assert!(verified.len() <= CAPACITY);
        assert!(
            verified.get(&format!("token-{}", CAPACITY + 9)).is_some(),
            "the newest is kept"
        );
    }
}
