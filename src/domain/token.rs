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
    /// The issuer: [`Issuers::native`] on session tokens, [`Issuers::oauth`] (the issuer
    /// of discovery, RFC 9068 §2.2) on tokens issued to an OpenID Connect client.
    pub iss: String,
    /// Whom the token is meant for (RFC 9068 §3): the client it was issued to, or the API
    /// (a registered resource, RFC 8707) the client asked for; absent on native tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// The OpenID Connect client the token was issued to (RFC 9068 §2.2); absent on native
    /// tokens. Tokens issued before this claim existed name the client in `aud` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The scopes granted to that client, space-separated; absent on native tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `refresh` on an OpenID Connect refresh token, which is never a bearer token.
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub token_use: Option<String>,
}

/// The `use` of a refresh token.
pub const REFRESH_USE: &str = "refresh";

/// The scope that lets a first-party client's token reach the native API (`/user/...`,
/// `/mfa`, `/organizations`, the admin routes). Without it an application's token reaches
/// only what OpenID Connect defines (userinfo), whatever else its user may do.
pub const API_SCOPE: &str = "authd:api";

/// The two issuers a deployment signs as: `native` (`AUTH_JWT_ISSUER`) on the session
/// tokens of part 1 of the contract, unchanged for their clients, and `oauth` (the public
/// URL, discovery's `issuer`) on access tokens issued to OpenID Connect clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuers {
    pub native: String,
    pub oauth: String,
}

impl Issuers {
    /// The issuer of a token for `client` (or of a native token when `None`).
    pub fn of(&self, client: Option<&str>) -> &str {
        match client {
            Some(_) => &self.oauth,
            None => &self.native,
        }
    }
}

/// What a bearer token may reach. The native API is a resource of its own (RFC 9068 §4:
/// the resource server checks the audience): a session token reaches it; a client's token
/// only when the client was granted [`API_SCOPE`] for itself (not for another API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// A token of a native session (sign-in through the API or the pages).
    Native,
    /// A client's token that may call the native API on its user's behalf.
    ClientWithApi,
    /// A client's token for OpenID Connect (userinfo) or another API only.
    Client,
}

impl Claims {
    /// The client the token was issued to, `None` for a native token.
    pub fn client(&self) -> Option<&str> {
        self.client_id.as_deref().or(self.aud.as_deref())
    }

    /// Whether `scope` was granted (always false on a native token).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope
            .as_deref()
            .is_some_and(|granted| granted.split(' ').any(|s| s == scope))
    }

    /// Whether the token is meant for the client itself rather than another API.
    pub fn meant_for_client(&self) -> bool {
        self.client().is_some() && self.aud.as_deref() == self.client()
    }

    /// What the token may reach.
    pub fn reach(&self) -> Reach {
        match self.client() {
            None => Reach::Native,
            Some(_) if self.meant_for_client() && self.has_scope(API_SCOPE) => Reach::ClientWithApi,
            Some(_) => Reach::Client,
        }
    }

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

/// The issue time, in Unix milliseconds, a token id carries: token ids are UUIDv7, whose
/// first 48 bits are a millisecond timestamp. `None` for the random (v4) ids of tokens
/// issued before ids were ordered.
pub fn jti_millis(jti: Uuid) -> Option<u64> {
    (jti.get_version_num() == 7).then(|| {
        let bytes = jti.as_bytes();
        bytes[..6]
            .iter()
            .fold(0u64, |millis, byte| (millis << 8) | u64::from(*byte))
    })
}

/// The id of the token that replaces `previous` in its session: `candidate` (a fresh
/// UUIDv7), moved to the millisecond after `previous` when it is not already later. Within
/// a session each token's id is then strictly later than the one it replaced, whichever
/// instance (and clock) made it, which is what lets one entry per session stand for every
/// token the session rotated away (see [`supersedes`]).
pub fn successor_jti(previous: Uuid, candidate: Uuid) -> Uuid {
    let (Some(after), Some(millis)) = (jti_millis(previous), jti_millis(candidate)) else {
        return candidate;
    };
    if millis > after {
        return candidate;
    }
    let mut bytes = *candidate.as_bytes();
    bytes[..6].copy_from_slice(&(after + 1).to_be_bytes()[2..]);
    Uuid::from_bytes(bytes)
}

/// Whether a session whose current token is `current` has rotated `presented` away:
/// `presented` is another token of the session, issued earlier. A token issued later than
/// the current one known here is newer news, not a revoked token. A v4 token is older than
/// any v7 one; against a v4 current token nothing can be said (the revocation rows written
/// per rotation before ids were ordered cover those).
pub fn supersedes(current: Uuid, presented: Uuid) -> bool {
    if current == presented {
        return false;
    }
    match (jti_millis(current), jti_millis(presented)) {
        (Some(current), Some(presented)) => presented < current,
        (Some(_), None) => true,
        (None, _) => false,
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
            client_id: None,
            scope: None,
            token_use: None,
        }
    }

    fn v7_at(millis: u64) -> Uuid {
        Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            millis / 1000,
            (millis % 1000) as u32 * 1_000_000,
        ))
    }

    #[test]
    fn a_v7_id_carries_its_millisecond_and_a_v4_id_none() {
        assert_eq!(jti_millis(v7_at(1_700_000_000_123)), Some(1_700_000_000_123));
        assert_eq!(jti_millis(Uuid::new_v4()), None);
    }

    #[test]
    fn a_successor_is_always_later_than_the_token_it_replaces() {
        let previous = v7_at(5_000);
        let fresh = v7_at(6_000);
        assert_eq!(successor_jti(previous, fresh), fresh, "a later candidate is kept");
        for candidate in [v7_at(5_000), v7_at(4_000), v7_at(1)] {
            let next = successor_jti(previous, candidate);
            assert_eq!(jti_millis(next), Some(5_001));
            assert_eq!(next.get_version_num(), 7);
            assert_eq!(next.as_bytes()[6..], candidate.as_bytes()[6..], "random bits kept");
        }
        let legacy = Uuid::new_v4();
        assert_eq!(successor_jti(legacy, fresh), fresh);
    }

    #[test]
    fn only_earlier_tokens_of_a_session_are_superseded() {
        let current = v7_at(10_000);
        assert!(!supersedes(current, current));
        assert!(supersedes(current, v7_at(9_999)));
        assert!(!supersedes(current, v7_at(10_001)), "a newer token is not revoked");
        assert!(supersedes(current, Uuid::new_v4()), "pre-v7 tokens are older");
        assert!(
            !supersedes(Uuid::new_v4(), v7_at(1)),
            "nothing is known against a v4 current"
        );
    }

    #[test]
    fn a_chain_of_successors_supersedes_every_earlier_link() {
        let mut chain = vec![v7_at(1_000)];
        for _ in 0..20 {
            let last = *chain.last().unwrap();
            chain.push(successor_jti(last, v7_at(1_000)));
        }
        let current = *chain.last().unwrap();
        assert!(chain[..chain.len() - 1].iter().all(|old| supersedes(current, *old)));
    }

    #[test]
    fn only_a_native_token_or_a_client_granted_the_api_reaches_the_native_api() {
        let native = claims(0, 10);
        assert_eq!(native.reach(), Reach::Native);
        let mut app = claims(0, 10);
        app.aud = Some("app".into());
        app.client_id = Some("app".into());
        app.scope = Some("openid email".into());
        assert_eq!(app.reach(), Reach::Client);
        app.scope = Some("openid authd:api".into());
        assert_eq!(app.reach(), Reach::ClientWithApi);
        app.aud = Some("https://api.example".into());
        assert_eq!(app.reach(), Reach::Client, "a token for another API");
        let mut legacy = claims(0, 10);
        legacy.aud = Some("app".into());
        legacy.scope = Some("openid".into());
        assert_eq!(legacy.client(), Some("app"), "older tokens name the client in aud");
        assert_eq!(legacy.reach(), Reach::Client);
        assert!(!legacy.has_scope("open"), "scopes match whole words");
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
