//! Each instance's copy of recently read profiles: `GET /user/me` becomes a hash lookup
//! instead of a query handed to a connection and back.
//!
//! Every [`SqlStore`](super::SqlStore) write that can change a profile forgets the profiles
//! it touches once it has finished, before its caller can answer, so an instance always
//! reads its own writes. What another process writes is bounded by the entry's lifetime,
//! counted from the moment the read that filled it started:
//! - on SQLite, [`SQLITE_TTL`]: this process is the database's only writer, so only a change
//!   made by hand (the `sqlite3` shell) goes unseen, for at most that long;
//! - on PostgreSQL, [`SHARED_TTL`]: other instances write the same rows, and a change there
//!   is visible on every instance within one second, the bound revocations keep too. The
//!   bound holds by construction, with no message to lose and no change feed to replay, so
//!   it holds through a Redis outage as well. An active user costs each instance at most one
//!   read per second, which is what the cache has to save: a client polling `/user/me` many
//!   times a second.
//!
//! A read that raced a write must not put back what the write replaced: each lookup that
//! misses hands out the generation it saw, and [`ProfileCache::keep`] refuses the row once
//! any forget has happened since.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use uuid::Uuid;

use crate::domain::profile::Profile;

/// How long a kept profile is served without reading it again, where this process is the
/// only writer.
pub const SQLITE_TTL: Duration = Duration::from_secs(5);

/// The same where instances share the database: the bound on seeing another's change.
pub const SHARED_TTL: Duration = Duration::from_secs(1);

/// Profiles kept at most; past it the copy starts over.
pub const CAPACITY: usize = 16_384;

/// Recently read profiles, by user id.
pub struct ProfileCache {
    ttl: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Bumped by every forget.
    generation: u64,
    entries: HashMap<Uuid, (Profile, Instant)>,
}

/// What a lookup found: the profile, or the generation to read it under.
pub enum Lookup {
    Hit(Profile),
    Miss(Generation),
}

/// The cache's generation when a lookup missed.
#[derive(Debug, Clone, Copy)]
pub struct Generation(u64);

impl ProfileCache {
    /// An empty cache whose entries are served for `ttl` after the read that filled them began.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            state: Mutex::default(),
        }
    }

    pub fn lookup(&self, user: Uuid, now: Instant) -> Lookup {
        let state = self.state.lock();
        match state.entries.get(&user) {
            Some((profile, read_at)) if now.duration_since(*read_at) < self.ttl => Lookup::Hit(profile.clone()),
            _ => Lookup::Miss(Generation(state.generation)),
        }
    }

    /// Keeps a profile read from the database after a lookup that missed, unless a write
    /// has forgotten anything since (the read may predate it). `read_from` is when the
    /// read began: the copy is as old as that.
    pub fn keep(&self, profile: &Profile, missed_at: Generation, read_from: Instant) {
        let mut state = self.state.lock();
        if state.generation != missed_at.0 {
            return;
        }
        if state.entries.len() >= CAPACITY {
            state.entries.clear();
        }
        state.entries.insert(profile.user.id, (profile.clone(), read_from));
    }

    /// After a write to one user's account or factors.
    pub fn forget(&self, user: Uuid) {
        let mut state = self.state.lock();
        state.generation += 1;
        state.entries.remove(&user);
    }

    /// After a write whose reach is wider than one known user: organizations, memberships,
    /// a factor known only by its id.
    pub fn forget_everyone(&self) {
        let mut state = self.state.lock();
        state.generation += 1;
        state.entries.clear();
    }
}

/// Held for the length of a write that may change profiles; forgets them when dropped, so
/// however the write ends (committed, refused, failed or cancelled) no copy outlives it.
pub struct ForgetWhenDone<'a> {
    pub(super) cache: &'a ProfileCache,
    /// One user's profile, or everyone's when `None`.
    pub(super) whose: Option<Uuid>,
}

impl Drop for ForgetWhenDone<'_> {
    fn drop(&mut self) {
        match self.whose {
            Some(user) => self.cache.forget(user),
            None => self.cache.forget_everyone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::User;

    fn profile(name: &str) -> Profile {
        Profile {
            user: User {
                id: Uuid::from_u128(7),
                name: name.into(),
                email: crate::domain::user::Email::parse(&format!("{name}@example.com")).unwrap(),
                email_verified: false,
                disabled: false,
                phone: None,
                password_hash: "hash".into(),
                is_admin: false,
                created_at: time::OffsetDateTime::UNIX_EPOCH,
            },
            organizations: Vec::new(),
            factors: Vec::new(),
        }
    }

    fn miss(cache: &ProfileCache, now: Instant) -> Generation {
        match cache.lookup(Uuid::from_u128(7), now) {
            Lookup::Miss(generation) => generation,
            Lookup::Hit(_) => panic!("expected a miss"),
        }
    }

    fn hit(cache: &ProfileCache, now: Instant) -> Option<String> {
        match cache.lookup(Uuid::from_u128(7), now) {
            Lookup::Hit(profile) => Some(profile.user.name),
            Lookup::Miss(_) => None,
        }
    }

    #[test]
    fn a_kept_profile_is_served_until_it_lapses() {
        let cache = ProfileCache::new(SQLITE_TTL);
        let now = Instant::now();
        let generation = miss(&cache, now);
        cache.keep(&profile("ada"), generation, now);
        assert_eq!(hit(&cache, now + SQLITE_TTL / 2), Some("ada".into()));
        assert_eq!(hit(&cache, now + SQLITE_TTL), None);
    }

    #[test]
    fn forgetting_drops_the_profile() {
        let cache = ProfileCache::new(SQLITE_TTL);
        let now = Instant::now();
        cache.keep(&profile("ada"), miss(&cache, now), now);
        cache.forget(Uuid::from_u128(7));
        assert_eq!(hit(&cache, now), None);

        cache.keep(&profile("ada"), miss(&cache, now), now);
        cache.forget_everyone();
        assert_eq!(hit(&cache, now), None);
    }

    #[test]
    fn a_read_that_raced_a_write_is_not_kept() {
        let cache = ProfileCache::new(SQLITE_TTL);
        let now = Instant::now();
        let before_the_write = miss(&cache, now);
        cache.forget(Uuid::from_u128(99));
        cache.keep(&profile("stale"), before_the_write, now);
        assert_eq!(hit(&cache, now), None);
    }
}
