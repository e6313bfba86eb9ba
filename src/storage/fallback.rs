//! A cache that keeps answering when its shared backend (Redis) does not: while the shared
//! cache is down, operations go to this process's memory, and a background probe switches
//! back once it answers again.
//!
//! It carries the rate-limit counters, where an instance-local limit during an outage is far
//! better than none and better than refusing every login. During the outage each instance
//! counts on its own, so a client spreading its attempts over N instances gets up to N times
//! the budget until Redis returns; the counts from the outage are not merged back.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::memory::MemoryCache;
use crate::ports::{Cache, StoreError, StoreResult};
use crate::telemetry::metrics as telemetry;

/// How often a down shared cache is probed.
const PROBE_EVERY: Duration = Duration::from_millis(500);

type Op<'a, T> = Pin<Box<dyn Future<Output = StoreResult<T>> + Send + 'a>>;

/// The shared cache, with this process's memory standing in while it is down.
pub struct FallbackCache {
    shared: Arc<dyn Cache>,
    local: MemoryCache,
    shared_down: Arc<AtomicBool>,
}

impl FallbackCache {
    pub fn new(shared: Arc<dyn Cache>) -> Self {
        Self {
            shared,
            local: MemoryCache::default(),
            shared_down: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether operations currently go to the in-process stand-in.
    pub fn is_degraded(&self) -> bool {
        self.shared_down.load(Ordering::Acquire)
    }

    async fn run<'a, T>(&'a self, op: impl Fn(&'a dyn Cache) -> Op<'a, T>) -> StoreResult<T> {
        if !self.is_degraded() {
            match op(self.shared.as_ref()).await {
                Err(StoreError::Unavailable { reason, .. }) => self.fall_back(&reason),
                answered => return answered,
            }
        }
        op(&self.local).await
    }

    /// Switches to the stand-in and starts the probe that switches back; only the first
    /// failure of an outage does either.
    fn fall_back(&self, reason: &str) {
        if self.shared_down.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::warn!(%reason, "shared cache unavailable; rate limits are counted in this process until it returns");
        metrics::gauge!(telemetry::CACHE_FALLBACK).set(1.0);
        let shared = self.shared.clone();
        let shared_down = self.shared_down.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PROBE_EVERY).await;
                if shared.ttl("fallback-probe").await.is_ok() {
                    shared_down.store(false, Ordering::Release);
                    metrics::gauge!(telemetry::CACHE_FALLBACK).set(0.0);
                    tracing::info!("shared cache is back; rate limits are shared again");
                    return;
                }
            }
        });
    }
}

#[async_trait]
impl Cache for FallbackCache {
    async fn incr(&self, key: &str, window: Duration) -> StoreResult<u64> {
        self.run(|c| c.incr(key, window)).await
    }

    async fn counter(&self, key: &str) -> StoreResult<(u64, Duration)> {
        self.run(|c| c.counter(key)).await
    }

    async fn decr(&self, key: &str) -> StoreResult<()> {
        self.run(|c| c.decr(key)).await
    }

    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> StoreResult<Option<Duration>> {
        self.run(|c| c.put_if_absent(key, value, ttl)).await
    }

    async fn ttl(&self, key: &str) -> StoreResult<Option<Duration>> {
        self.run(|c| c.ttl(key)).await
    }

    async fn put(&self, key: &str, value: &str, ttl: Duration) -> StoreResult<()> {
        self.run(|c| c.put(key, value, ttl)).await
    }

    async fn get(&self, key: &str) -> StoreResult<Option<String>> {
        self.run(|c| c.get(key)).await
    }

    async fn take(&self, key: &str) -> StoreResult<Option<String>> {
        self.run(|c| c.take(key)).await
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        self.run(|c| c.delete(key)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shared cache that is down until told otherwise; a stand-in for the core's unit tests.
    #[derive(Default)]
    struct SwitchableCache {
        up: AtomicBool,
        inner: MemoryCache,
    }

    impl SwitchableCache {
        fn check(&self) -> StoreResult<()> {
            if self.up.load(Ordering::Acquire) {
                Ok(())
            } else {
                Err(StoreError::Unavailable {
                    component: "redis",
                    reason: "down".into(),
                })
            }
        }
    }

    #[async_trait]
    impl Cache for SwitchableCache {
        async fn incr(&self, key: &str, window: Duration) -> StoreResult<u64> {
            self.check()?;
            self.inner.incr(key, window).await
        }
        async fn counter(&self, key: &str) -> StoreResult<(u64, Duration)> {
            self.check()?;
            self.inner.counter(key).await
        }
        async fn decr(&self, key: &str) -> StoreResult<()> {
            self.check()?;
            self.inner.decr(key).await
        }
        async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> StoreResult<Option<Duration>> {
            self.check()?;
            self.inner.put_if_absent(key, value, ttl).await
        }
        async fn ttl(&self, key: &str) -> StoreResult<Option<Duration>> {
            self.check()?;
            self.inner.ttl(key).await
        }
        async fn put(&self, key: &str, value: &str, ttl: Duration) -> StoreResult<()> {
            self.check()?;
            self.inner.put(key, value, ttl).await
        }
        async fn get(&self, key: &str) -> StoreResult<Option<String>> {
            self.check()?;
            self.inner.get(key).await
        }
        async fn take(&self, key: &str) -> StoreResult<Option<String>> {
            self.check()?;
            self.inner.take(key).await
        }
        async fn delete(&self, key: &str) -> StoreResult<()> {
            self.check()?;
            self.inner.delete(key).await
        }
    }

    #[tokio::test]
    async fn counts_in_memory_while_the_shared_cache_is_down_and_returns_to_it() {
        let shared = Arc::new(SwitchableCache::default());
        let cache = FallbackCache::new(shared.clone());
        let window = Duration::from_secs(60);

        assert_eq!(cache.incr("k", window).await.unwrap(), 1);
        assert_eq!(cache.incr("k", window).await.unwrap(), 2);
        assert!(cache.is_degraded());

        shared.up.store(true, Ordering::Release);
        tokio::time::timeout(Duration::from_secs(5), async {
            while cache.is_degraded() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("switches back once the shared cache answers");
        assert_eq!(
            cache.incr("k", window).await.unwrap(),
            1,
            "counts on the shared cache again"
        );
        assert_eq!(shared.inner.counter("k").await.unwrap().0, 1);
    }
}
