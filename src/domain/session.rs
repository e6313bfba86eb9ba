//! Sessions and the refresh-rotation rule.
//!
//! A session has exactly one current token. Refreshing the current token rotates it: a
//! successor is made, the old token is revoked. Presenting the just-rotated token again
//! within the grace interval yields that same successor (so concurrent refreshes and client
//! retries agree); presenting any rotated-away token later is treated as theft and revokes
//! the whole session.

use std::time::Duration;

use uuid::Uuid;

use super::sign_in_method::SignInMethod;
use super::token::{Claims, Issuers};

/// Lifetimes that shape every session and token.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub token_ttl: Duration,
    pub session_max_age: Duration,
    pub refresh_grace: Duration,
}

/// The identity of one issued token: enough to sign it again, byte for byte (Ed25519
/// signatures are deterministic), so a successor never has to be stored as a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenGrant {
    pub jti: Uuid,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// A login session, as the database keeps it. Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub created_at: i64,
    /// Absolute end of the session, whatever happens to its tokens.
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub current: TokenGrant,
    /// The token the current one replaced, and when; drives the grace interval.
    pub previous_jti: Option<Uuid>,
    pub rotated_at: Option<i64>,
    /// How the user proved who they are.
    pub method: SignInMethod,
    /// For a session an OpenID Connect client holds: the client and its granted scopes.
    pub audience: Option<Audience>,
    /// When the holder last confirmed their password (Unix seconds).
    pub confirmed_at: Option<i64>,
}

/// A session about to start: whose, how they proved it, and for which client (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    pub user_id: Uuid,
    pub method: SignInMethod,
    pub audience: Option<Audience>,
}

/// The client a session's tokens are issued to, and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience {
    pub client_id: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// The API (a registered resource, RFC 8707) the tokens are meant for, when the client
    /// asked for one.
    pub resource: Option<String>,
    /// When the person signed in at authd (Unix seconds): the browser session's sign-in the
    /// client's code came from, not the code exchange. Every ID token this session issues
    /// carries it as `auth_time` (OIDC Core §2, §12.2).
    pub signed_in_at: i64,
}

impl Audience {
    /// The tokens' `aud`: the API asked for, else the client itself.
    pub fn audience(&self) -> &str {
        self.resource.as_deref().unwrap_or(&self.client_id)
    }
}

/// What to do with a refresh request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshDecision {
    /// The presented token is current: make this successor and revoke the presented one.
    Rotate(TokenGrant),
    /// The presented token was just rotated: answer with the existing successor.
    ReturnCurrent,
    /// A rotated-away token came back after the grace interval: revoke the session.
    ReuseDetected,
    /// The session is revoked or over.
    Reject,
}

/// A live session as its owner sees it in the sessions list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: Uuid,
    pub created_at: i64,
    /// The last refresh, or the sign-in when there was none (no write per request).
    pub last_used_at: i64,
    pub expires_at: i64,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// How long a device stays known after a sign-in from it, for the new-device notice.
pub const DEVICE_MEMORY_SECS: i64 = 30 * 86_400;

/// What storage knows of a user's earlier sign-ins, for the new-device notice. A device is
/// the client's user agent: addresses change too often (mobile networks, VPNs) to name one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInHistory {
    /// Any session was ever opened for the account before.
    pub earlier_sign_ins: bool,
    /// A session was opened from the same device within [`DEVICE_MEMORY_SECS`].
    pub device_seen_recently: bool,
}

impl SignInHistory {
    /// A sign-in from a device not seen lately warrants a notice; an account's very first
    /// sign-in does not.
    pub fn warrants_notice(self) -> bool {
        self.earlier_sign_ins && !self.device_seen_recently
    }
}

impl Session {
    /// Starts a session at `now` with its first token.
    pub fn start(id: Uuid, user_id: Uuid, first_jti: Uuid, now: i64, policy: &SessionPolicy) -> Self {
        let expires_at = now + policy.session_max_age.as_secs() as i64;
        Self {
            id,
            user_id,
            created_at: now,
            expires_at,
            revoked_at: None,
            current: grant(first_jti, now, expires_at, policy),
            previous_jti: None,
            rotated_at: None,
            method: SignInMethod::Password,
            audience: None,
            confirmed_at: None,
        }
    }

    /// Decides a refresh of the token `presented` at `now`; `successor_jti` is used when rotating.
    pub fn decide_refresh(
        &self,
        presented: &Claims,
        successor_jti: Uuid,
        now: i64,
        policy: &SessionPolicy,
    ) -> RefreshDecision {
        if self.revoked_at.is_some() || now >= self.expires_at || presented.sid != self.id {
            return RefreshDecision::Reject;
        }
        if presented.jti == self.current.jti {
            return RefreshDecision::Rotate(grant(successor_jti, now, self.expires_at, policy));
        }
        let within_grace = self
            .rotated_at
            .is_some_and(|at| now - at <= policy.refresh_grace.as_secs() as i64);
        if self.previous_jti == Some(presented.jti) && within_grace {
            RefreshDecision::ReturnCurrent
        } else {
            RefreshDecision::ReuseDetected
        }
    }

    /// The session after its current token was replaced by `next` at `now`: the old token
    /// becomes the predecessor that the grace interval honours.
    pub fn rotate(&self, next: TokenGrant, now: i64) -> Session {
        Session {
            previous_jti: Some(self.current.jti),
            rotated_at: Some(now),
            current: next,
            ..self.clone()
        }
    }

    /// Whether the session signed in or confirmed its holder within `window_secs` of `now`
    /// and is still live: what sensitive changes require.
    pub fn recently_authenticated(&self, now: i64, window_secs: i64) -> bool {
        let proved = self.confirmed_at.unwrap_or(self.created_at).max(self.created_at);
        self.revoked_at.is_none() && now < self.expires_at && now - proved <= window_secs
    }

    /// The claims of the session's current token.
    pub fn current_claims(&self, issuers: &Issuers) -> Claims {
        let client = self.audience.as_ref().map(|a| a.client_id.clone());
        Claims {
            sub: self.user_id,
            sid: self.id,
            jti: self.current.jti,
            iat: self.current.issued_at,
            exp: self.current.expires_at,
            iss: issuers.of(client.as_deref()).to_owned(),
            aud: self.audience.as_ref().map(|a| a.audience().to_owned()),
            client_id: client,
            scope: self.audience.as_ref().map(|a| a.scope.clone()),
            token_use: None,
        }
    }
}

impl SessionPolicy {
    /// The successor a refresh asks storage for before it has read the session: a full
    /// token lifetime from `now`, which storage caps at the session's end as [`grant`]
    /// does (the rotation's fast path, `SessionStore::rotate_if_current`).
    pub fn successor_grant(&self, jti: Uuid, now: i64) -> TokenGrant {
        grant(jti, now, i64::MAX, self)
    }
}

/// A token lives for the token TTL but never beyond its session.
fn grant(jti: Uuid, now: i64, session_expires_at: i64, policy: &SessionPolicy) -> TokenGrant {
    TokenGrant {
        jti,
        issued_at: now,
        expires_at: (now + policy.token_ttl.as_secs() as i64).min(session_expires_at),
    }
}

#[cfg(test)]
mod device_tests {
    use super::SignInHistory;

    #[test]
    fn only_a_known_account_on_an_unseen_device_gets_a_notice() {
        let history = |earlier_sign_ins, device_seen_recently| SignInHistory {
            earlier_sign_ins,
            device_seen_recently,
        };
        assert!(history(true, false).warrants_notice());
        assert!(!history(true, true).warrants_notice());
        assert!(!history(false, false).warrants_notice());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: SessionPolicy = SessionPolicy {
        token_ttl: Duration::from_secs(3600),
        session_max_age: Duration::from_secs(7 * 24 * 3600),
        refresh_grace: Duration::from_secs(10),
    };

    static ISSUERS: std::sync::LazyLock<Issuers> = std::sync::LazyLock::new(|| Issuers {
        native: "t".into(),
        oauth: "https://t.example".into(),
    });

    fn session_at(now: i64) -> Session {
        Session::start(Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), now, &POLICY)
    }

    #[test]
    fn a_session_is_recent_for_the_window_after_sign_in_or_confirmation() {
        let s = session_at(1_000);
        assert!(s.recently_authenticated(1_900, 900));
        assert!(!s.recently_authenticated(1_901, 900));
        let confirmed = Session {
            confirmed_at: Some(5_000),
            ..s.clone()
        };
        assert!(confirmed.recently_authenticated(5_900, 900));
        let revoked = Session {
            revoked_at: Some(5_001),
            ..confirmed
        };
        assert!(!revoked.recently_authenticated(5_002, 900));
    }

    fn rotated(s: Session, next: TokenGrant, now: i64) -> Session {
        s.rotate(next, now)
    }

    #[test]
    fn the_first_token_lives_one_ttl() {
        let s = session_at(1_000);
        assert_eq!(s.current.expires_at, 1_000 + 3600);
        assert_eq!(s.expires_at, 1_000 + 7 * 24 * 3600);
    }

    #[test]
    fn refreshing_the_current_token_rotates_it() {
        let s = session_at(1_000);
        let next = Uuid::new_v4();
        let decision = s.decide_refresh(&s.current_claims(&ISSUERS), next, 1_500, &POLICY);
        assert_eq!(
            decision,
            RefreshDecision::Rotate(TokenGrant {
                jti: next,
                issued_at: 1_500,
                expires_at: 5_100
            })
        );
    }

    #[test]
    fn a_successor_never_outlives_the_session() {
        let s = session_at(0);
        let late = s.expires_at - 60;
        match s.decide_refresh(&s.current_claims(&ISSUERS), Uuid::new_v4(), late, &POLICY) {
            RefreshDecision::Rotate(g) => assert_eq!(g.expires_at, s.expires_at),
            other => panic!("expected rotation, got {other:?}"),
        }
    }

    #[test]
    fn the_rotated_token_yields_the_successor_within_grace_only() {
        let s = session_at(1_000);
        let old = s.current_claims(&ISSUERS);
        let next = TokenGrant {
            jti: Uuid::new_v4(),
            issued_at: 1_500,
            expires_at: 5_100,
        };
        let s = rotated(s, next, 1_500);
        assert_eq!(
            s.decide_refresh(&old, Uuid::new_v4(), 1_510, &POLICY),
            RefreshDecision::ReturnCurrent
        );
        assert_eq!(
            s.decide_refresh(&old, Uuid::new_v4(), 1_511, &POLICY),
            RefreshDecision::ReuseDetected
        );
    }

    #[test]
    fn a_token_two_rotations_old_is_reuse_even_within_grace() {
        let s = session_at(1_000);
        let first = s.current_claims(&ISSUERS);
        let s = rotated(
            s,
            TokenGrant {
                jti: Uuid::new_v4(),
                issued_at: 1_001,
                expires_at: 4_601,
            },
            1_001,
        );
        let s = rotated(
            s,
            TokenGrant {
                jti: Uuid::new_v4(),
                issued_at: 1_002,
                expires_at: 4_602,
            },
            1_002,
        );
        assert_eq!(
            s.decide_refresh(&first, Uuid::new_v4(), 1_003, &POLICY),
            RefreshDecision::ReuseDetected
        );
    }

    #[test]
    fn revoked_or_ended_sessions_reject() {
        let mut s = session_at(1_000);
        let claims = s.current_claims(&ISSUERS);
        assert_eq!(
            s.decide_refresh(&claims, Uuid::new_v4(), s.expires_at, &POLICY),
            RefreshDecision::Reject
        );
        s.revoked_at = Some(1_200);
        assert_eq!(
            s.decide_refresh(&claims, Uuid::new_v4(), 1_300, &POLICY),
            RefreshDecision::Reject
        );
    }

    #[test]
    fn a_token_of_another_session_is_rejected() {
        let s = session_at(1_000);
        let mut claims = s.current_claims(&ISSUERS);
        claims.sid = Uuid::new_v4();
        assert_eq!(
            s.decide_refresh(&claims, Uuid::new_v4(), 1_100, &POLICY),
            RefreshDecision::Reject
        );
    }
}
