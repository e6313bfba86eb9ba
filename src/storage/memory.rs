//! In-process adapters for the single-binary default: nothing is shared, nothing is lost
//! that matters (sessions, factors and revocations live in the database).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use parking_lot::Mutex;
use tokio::sync::mpsc;

use crate::domain::revocation::Revocation;
use crate::ports::{Cache, RevocationBus, StoreResult};

#[derive(Debug, Clone)]
enum Value {
    Counter(u64),
    Text(String),
}

/// The cache in this process's memory; entries vanish when their time is up.
#[derive(Default)]
pub struct MemoryCache {
    entries: Mutex<HashMap<String, (Value, Instant)>>,
}

/// Above this many keys, lapsed entries are swept on the next write.
const SWEEP_THRESHOLD: usize = 10_000;

impl MemoryCache {
    fn live(&self, key: &str) -> Option<(Value, Instant)> {
        let entries = self.entries.lock();
        entries.get(key).filter(|(_, ends)| *ends > Instant::now()).cloned()
    }

    fn write(&self, key: &str, value: Value, ttl: Duration) {
        let now = Instant::now();
        let mut entries = self.entries.lock();
        if entries.len() > SWEEP_THRESHOLD {
            entries.retain(|_, (_, ends)| *ends > now);
        }
        entries.insert(key.to_owned(), (value, now + ttl));
    }
}

#[async_trait]
impl Cache for MemoryCache {
    async fn incr(&self, key: &str, window: Duration) -> StoreResult<u64> {
        let now = Instant::now();
        let mut entries = self.entries.lock();
        let entry = entries
            .entry(key.to_owned())
            .or_insert((Value::Counter(0), now + window));
        if entry.1 <= now {
            *entry = (Value::Counter(0), now + window);
        }
        let count = match entry.0 {
            Value::Counter(count) => count + 1,
            Value::Text(_) => 1,
        };
        entry.0 = Value::Counter(count);
        Ok(count)
    }

    async fn counter(&self, key: &str) -> StoreResult<(u64, Duration)> {
        Ok(match self.live(key) {
            Some((Value::Counter(count), ends)) => (count, ends.saturating_duration_since(Instant::now())),
            _ => (0, Duration::ZERO),
        })
    }

    async fn decr(&self, key: &str) -> StoreResult<()> {
        let mut entries = self.entries.lock();
        if let Some((Value::Counter(count), ends)) = entries.get_mut(key) {
            if *ends > Instant::now() {
                *count = count.saturating_sub(1);
            }
        }
        Ok(())
    }

    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> StoreResult<Option<Duration>> {
        let now = Instant::now();
        let mut entries = self.entries.lock();
        if let Some((_, ends)) = entries.get(key).filter(|(_, ends)| *ends > now) {
            return Ok(Some(ends.saturating_duration_since(now)));
        }
        entries.insert(key.to_owned(), (Value::Text(value.to_owned()), now + ttl));
        Ok(None)
    }

    async fn ttl(&self, key: &str) -> StoreResult<Option<Duration>> {
        Ok(self
            .live(key)
            .map(|(_, ends)| ends.saturating_duration_since(Instant::now())))
    }

    async fn put(&self, key: &str, value: &str, ttl: Duration) -> StoreResult<()> {
        self.write(key, Value::Text(value.to_owned()), ttl);
        Ok(())
    }

    async fn get(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(match self.live(key) {
            Some((Value::Text(text), _)) => Some(text),
            _ => None,
        })
    }

    async fn take(&self, key: &str) -> StoreResult<Option<String>> {
        let removed = self.entries.lock().remove(key);
        Ok(match removed {
            Some((Value::Text(text), ends)) if ends > Instant::now() => Some(text),
            _ => None,
        })
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        self.entries.lock().remove(key);
        Ok(())
    }
}

/// The bus of a lone instance: there is nobody to tell.
#[derive(Default)]
pub struct LocalBus;

#[async_trait]
impl RevocationBus for LocalBus {
    async fn publish(&self, _revocation: &Revocation) -> StoreResult<()> {
        Ok(())
    }

    async fn listen(&self, sink: mpsc::Sender<Revocation>) -> StoreResult<()> {
        sink.closed().await;
        Ok(())
    }

    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::cache_contract as contract;

    #[tokio::test]
    async fn counters_count_within_their_window_and_restart_after_it() {
        contract::counters_count_within_their_window_and_restart_after_it(&MemoryCache::default()).await;
    }

    #[tokio::test]
    async fn a_value_is_taken_once_and_a_lapsed_one_not_at_all() {
        contract::a_value_is_taken_once_and_a_lapsed_one_not_at_all(&MemoryCache::default()).await;
    }

    #[tokio::test]
    async fn only_the_first_put_if_absent_sets_until_it_lapses() {
        contract::only_the_first_put_if_absent_sets_until_it_lapses(&MemoryCache::default()).await;
    }
}
