//! The time, and the identifiers ordered by it, as one port: a rule that asks "is this
//! expired?" or a service that names a new row asks the [`Clock`], so a test can stop
//! time, move it, and predict what comes next ([`ManualClock`]). Nothing outside these
//! two clocks reads the wall clock or mints a time-ordered id.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::Stamp;

/// The current time and new time-ordered identifiers (UUIDv7).
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;

    /// A new identifier, later than every one this clock made before (UUIDv7: its first
    /// 48 bits are the clock's milliseconds).
    fn new_id(&self) -> Uuid;

    fn unix_now(&self) -> i64 {
        self.now().unix_timestamp()
    }

    /// A new id and the current time, for a record that needs both (an event).
    fn stamp(&self) -> Stamp {
        self.stamp_at(self.unix_now())
    }

    /// A new id for a record of the instant `at` the caller read already (the event of a
    /// change made at that instant).
    fn stamp_at(&self, at: i64) -> Stamp {
        Stamp { id: self.new_id(), at }
    }
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}

/// A clock that stands still until told to move: for tests of expiry and grace periods
/// without sleeping. Its ids are UUIDv7 of its own time with a counter in place of the
/// random bits, so they are ordered and predictable.
#[derive(Debug)]
pub struct ManualClock {
    unix_millis: AtomicI64,
    minted: AtomicU64,
}

impl ManualClock {
    /// A clock showing `unix_seconds`.
    pub fn at(unix_seconds: i64) -> Self {
        Self {
            unix_millis: AtomicI64::new(unix_seconds * 1000),
            minted: AtomicU64::new(0),
        }
    }

    /// Moves the clock forward by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.unix_millis.fetch_add(seconds * 1000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        let millis = self.unix_millis.load(Ordering::SeqCst);
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).expect("a clock within time's range")
    }

    fn new_id(&self) -> Uuid {
        let millis = self.unix_millis.load(Ordering::SeqCst).max(0) as u64;
        let count = self.minted.fetch_add(1, Ordering::SeqCst);
        let mut tail = [0u8; 10];
        tail[2..].copy_from_slice(&count.to_be_bytes());
        uuid::Builder::from_unix_timestamp_millis(millis, &tail).into_uuid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_moves_when_told_and_orders_its_ids() {
        let clock = ManualClock::at(1_700_000_000);
        assert_eq!(clock.unix_now(), 1_700_000_000);
        let (first, second) = (clock.new_id(), clock.new_id());
        assert!(first < second, "ids made at one instant are still ordered");
        assert_eq!(first.get_version_num(), 7);
        clock.advance(90);
        assert_eq!(clock.unix_now(), 1_700_000_090);
        let later = clock.new_id();
        assert!(second < later);
        assert_eq!(later.get_timestamp().unwrap().to_unix().0, 1_700_000_090);
    }

    #[test]
    fn the_system_clock_mints_ordered_ids() {
        let clock = SystemClock;
        let ids: Vec<Uuid> = (0..100).map(|_| clock.new_id()).collect();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
    }
}
