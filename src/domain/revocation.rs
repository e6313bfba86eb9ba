//! Revocations and the in-memory set every protected request is checked against.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a revocation applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RevokedSubject {
    /// Every token of a session.
    Session(Uuid),
    /// One token (a rotated-away one).
    Token(Uuid),
}

/// One revocation; it matters until `until` (Unix seconds), after which every token it could
/// apply to has expired anyway, so it can be forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub subject: RevokedSubject,
    pub until: i64,
}

/// The revoked sessions and tokens that still matter.
#[derive(Debug, Default)]
pub struct RevokedSet {
    entries: HashMap<RevokedSubject, i64>,
}

impl RevokedSet {
    /// Records a revocation; repeating one is harmless.
    pub fn insert(&mut self, revocation: Revocation) {
        let until = self.entries.entry(revocation.subject).or_insert(revocation.until);
        *until = (*until).max(revocation.until);
    }

    /// Whether a token of session `sid` with id `jti` is revoked.
    pub fn is_revoked(&self, sid: Uuid, jti: Uuid) -> bool {
        self.entries.contains_key(&RevokedSubject::Session(sid))
            || self.entries.contains_key(&RevokedSubject::Token(jti))
    }

    /// Drops what no longer matters at `now`.
    pub fn prune(&mut self, now: i64) {
        self.entries.retain(|_, until| *until > now);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revoked_session_covers_all_its_tokens() {
        let mut set = RevokedSet::default();
        let sid = Uuid::new_v4();
        set.insert(Revocation {
            subject: RevokedSubject::Session(sid),
            until: 100,
        });
        assert!(set.is_revoked(sid, Uuid::new_v4()));
        assert!(!set.is_revoked(Uuid::new_v4(), Uuid::new_v4()));
    }

    #[test]
    fn a_revoked_token_covers_only_itself() {
        let mut set = RevokedSet::default();
        let (sid, jti) = (Uuid::new_v4(), Uuid::new_v4());
        set.insert(Revocation {
            subject: RevokedSubject::Token(jti),
            until: 100,
        });
        assert!(set.is_revoked(sid, jti));
        assert!(!set.is_revoked(sid, Uuid::new_v4()));
    }

    #[test]
    fn pruning_forgets_only_what_has_lapsed_and_keeps_the_latest_until() {
        let mut set = RevokedSet::default();
        let jti = Uuid::new_v4();
        set.insert(Revocation {
            subject: RevokedSubject::Token(jti),
            until: 100,
        });
        set.insert(Revocation {
            subject: RevokedSubject::Token(jti),
            until: 50,
        });
        set.prune(99);
        assert_eq!(set.len(), 1);
        set.prune(100);
        assert!(set.is_empty());
    }
}
