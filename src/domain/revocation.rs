//! Revocations and the in-memory set every protected request is checked against.
//!
//! What the set holds grows with sessions, not with rotations: a rotation is one
//! [`RevokedSubject::Superseded`] entry per session, replaced by the next rotation, which
//! stands for every token the session has rotated away (token ids are ordered within a
//! session, see [`supersedes`]).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::token::supersedes;

/// What a revocation applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RevokedSubject {
    /// Every token of a session.
    Session(Uuid),
    /// One token. Written per rotation before token ids were ordered; still honoured until
    /// those rows lapse.
    Token(Uuid),
    /// Every token of `session` issued before `current`: what a rotation revokes. The latest
    /// rotation of a session replaces the earlier ones.
    Superseded { session: Uuid, current: Uuid },
}

/// One revocation; it matters until `until` (Unix seconds), after which every token it could
/// apply to has expired anyway, so it can be forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub subject: RevokedSubject,
    pub until: i64,
}

impl Revocation {
    /// Whether the other instances should hear of it over the bus, rather than only from
    /// their periodic catch-up. A rotation is not: it is the bulk of all revocations (one
    /// per refresh), the catch-up brings it within the same bound as everything else, and a
    /// successor is accepted everywhere at once anyway (see [`RevokedSet::is_revoked`]).
    /// A logout, a reuse or a deletion is: it should hold everywhere as soon as it can.
    pub fn is_urgent(&self) -> bool {
        !matches!(self.subject, RevokedSubject::Superseded { .. })
    }
}

/// The revoked sessions and tokens that still matter.
#[derive(Debug, Default)]
pub struct RevokedSet {
    /// Revoked sessions and single tokens, each with its `until`.
    entries: HashMap<RevokedSubject, i64>,
    /// Per rotated session: its current token as far as this set knows, and `until`.
    current: HashMap<Uuid, (Uuid, i64)>,
}

impl RevokedSet {
    /// Records a revocation; repeating one, or learning of rotations out of order, is
    /// harmless: a session keeps the latest current token it was told of.
    pub fn insert(&mut self, revocation: Revocation) {
        if let RevokedSubject::Superseded { session, current } = revocation.subject {
            let known = self.current.entry(session).or_insert((current, revocation.until));
            if supersedes(current, known.0) {
                known.0 = current;
            }
            known.1 = known.1.max(revocation.until);
            return;
        }
        let until = self.entries.entry(revocation.subject).or_insert(revocation.until);
        *until = (*until).max(revocation.until);
    }

    /// Whether a token of session `sid` with id `jti` is revoked.
    pub fn is_revoked(&self, sid: Uuid, jti: Uuid) -> bool {
        self.entries.contains_key(&RevokedSubject::Session(sid))
            || self.entries.contains_key(&RevokedSubject::Token(jti))
            || self
                .current
                .get(&sid)
                .is_some_and(|(current, _)| supersedes(*current, jti))
    }

    /// Drops what no longer matters at `now`.
    pub fn prune(&mut self, now: i64) {
        self.entries.retain(|_, until| *until > now);
        self.current.retain(|_, (_, until)| *until > now);
    }

    /// Entries held: revoked sessions and tokens, plus one per rotated session.
    pub fn len(&self) -> usize {
        self.entries.len() + self.current.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotations_are_left_to_the_catch_up_and_every_other_revocation_is_urgent() {
        let (session, current) = (Uuid::new_v4(), Uuid::new_v4());
        let revocation = |subject| Revocation { subject, until: 100 };
        assert!(!revocation(RevokedSubject::Superseded { session, current }).is_urgent());
        assert!(revocation(RevokedSubject::Session(session)).is_urgent());
        assert!(revocation(RevokedSubject::Token(current)).is_urgent());
    }

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

    fn v7_at(millis: u64) -> Uuid {
        Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            millis / 1000,
            (millis % 1000) as u32 * 1_000_000,
        ))
    }

    fn rotated(session: Uuid, current: Uuid, until: i64) -> Revocation {
        Revocation {
            subject: RevokedSubject::Superseded { session, current },
            until,
        }
    }

    #[test]
    fn a_rotation_revokes_every_earlier_token_of_its_session_and_nothing_else() {
        let mut set = RevokedSet::default();
        let sid = Uuid::new_v4();
        let (first, second, third) = (v7_at(1_000), v7_at(2_000), v7_at(3_000));
        set.insert(rotated(sid, second, 100));
        assert!(set.is_revoked(sid, first));
        assert!(!set.is_revoked(sid, second));
        assert!(
            !set.is_revoked(sid, third),
            "a successor not yet heard of is not revoked"
        );
        assert!(!set.is_revoked(Uuid::new_v4(), first), "other sessions are untouched");
    }

    #[test]
    fn rotations_of_a_session_replace_each_other_whatever_order_they_arrive_in() {
        let mut set = RevokedSet::default();
        let sid = Uuid::new_v4();
        let tokens: Vec<Uuid> = (1..=50).map(|n| v7_at(n * 1_000)).collect();
        for current in tokens.iter().rev() {
            set.insert(rotated(sid, *current, 100));
        }
        assert_eq!(set.len(), 1, "one entry per session, not per rotation");
        let last = *tokens.last().unwrap();
        assert!(!set.is_revoked(sid, last));
        assert!(tokens[..49].iter().all(|old| set.is_revoked(sid, *old)));
    }

    #[test]
    fn a_rotation_entry_lapses_with_its_until() {
        let mut set = RevokedSet::default();
        let sid = Uuid::new_v4();
        set.insert(rotated(sid, v7_at(2_000), 100));
        set.prune(99);
        assert!(set.is_revoked(sid, v7_at(1_000)));
        set.prune(100);
        assert!(set.is_empty());
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
