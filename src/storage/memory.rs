//! In-process adapters for the single-binary default: nothing is shared, nothing is lost
//! that matters (sessions and revocations live in the database).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use parking_lot::Mutex;
use tokio::sync::mpsc;

use crate::domain::revocation::Revocation;
use crate::ports::{AttemptCounter, RevocationBus, StoreResult};

/// Attempt counters in this process's memory.
#[derive(Default)]
pub struct MemoryCounter {
    windows: Mutex<HashMap<String, (u64, Instant)>>,
}

/// Above this many keys, lapsed windows are swept on the next write.
const SWEEP_THRESHOLD: usize = 10_000;

#[async_trait]
impl AttemptCounter for MemoryCounter {
    async fn failures(&self, key: &str) -> StoreResult<(u64, Duration)> {
        let now = Instant::now();
        let windows = self.windows.lock();
        Ok(match windows.get(key) {
            Some(&(count, ends)) if ends > now => (count, ends - now),
            _ => (0, Duration::ZERO),
        })
    }

    async fn record_failure(&self, key: &str, window: Duration) -> StoreResult<u64> {
        let now = Instant::now();
        let mut windows = self.windows.lock();
        if windows.len() > SWEEP_THRESHOLD {
            windows.retain(|_, (_, ends)| *ends > now);
        }
        let entry = windows.entry(key.to_owned()).or_insert((0, now + window));
        if entry.1 <= now {
            *entry = (0, now + window);
        }
        entry.0 += 1;
        Ok(entry.0)
    }

    async fn clear(&self, key: &str) -> StoreResult<()> {
        self.windows.lock().remove(key);
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

    #[tokio::test]
    async fn failures_count_within_a_window_and_reset_after_it() {
        let counter = MemoryCounter::default();
        let window = Duration::from_millis(50);
        assert_eq!(counter.record_failure("k", window).await.unwrap(), 1);
        assert_eq!(counter.record_failure("k", window).await.unwrap(), 2);
        assert_eq!(counter.failures("k").await.unwrap().0, 2);
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(counter.failures("k").await.unwrap().0, 0);
        assert_eq!(counter.record_failure("k", window).await.unwrap(), 1);
        counter.clear("k").await.unwrap();
        assert_eq!(counter.failures("k").await.unwrap().0, 0);
    }
}
