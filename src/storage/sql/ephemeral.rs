//! Short-lived shared state in the database: the [`Cache`] port for what must stay exact
//! across instances and through a Redis outage (MFA login challenges and their attempt
//! counts, passkey ceremonies, the per-address e-mail counters).
//!
//! Each operation is one statement, so the guarantees the port promises hold across
//! instances through the database's own row locking: an increment is an upsert that returns
//! the new count, a take is a `DELETE ... RETURNING` (only one caller gets the row), a
//! put-if-absent is an upsert that replaces only a lapsed row. Rows carry their end in Unix
//! milliseconds; a lapsed row counts as absent at once and is deleted by [`SqlStore::prune_ephemeral`].

use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;

use super::{unavailable, SqlStore};
use crate::ports::{Cache, Clock, StoreResult, SystemClock};

/// Entries lapse by the wall clock, as Redis keys do (a cache's expiry is not a rule a test
/// moves through time).
fn now_millis() -> i64 {
    (SystemClock.now().unix_timestamp_nanos() / 1_000_000) as i64
}

fn millis(duration: Duration) -> i64 {
    duration.as_millis().clamp(1, i64::MAX as u128) as i64
}

fn left(ends_at: i64, now: i64) -> Duration {
    Duration::from_millis((ends_at - now).max(0) as u64)
}

impl SqlStore {
    /// Deletes lapsed entries; returns how many.
    pub async fn prune_ephemeral(&self) -> StoreResult<u64> {
        let pruned = sqlx::query("DELETE FROM ephemeral_entries WHERE expires_at <= $1")
            .bind(now_millis())
            .execute(&self.writer)
            .await?;
        Ok(pruned.rows_affected())
    }

    async fn live_row(&self, key: &str) -> StoreResult<Option<sqlx::any::AnyRow>> {
        sqlx::query("SELECT value, counter, expires_at FROM ephemeral_entries WHERE key = $1 AND expires_at > $2")
            .bind(key)
            .bind(now_millis())
            .fetch_optional(&self.writer)
            .await
            .map_err(unavailable)
    }
}

#[async_trait]
impl Cache for SqlStore {
    async fn incr(&self, key: &str, window: Duration) -> StoreResult<u64> {
        let now = now_millis();
        let row = sqlx::query(
            "INSERT INTO ephemeral_entries (key, value, counter, expires_at) VALUES ($1, NULL, 1, $2) \
             ON CONFLICT (key) DO UPDATE SET \
               counter = CASE WHEN ephemeral_entries.expires_at <= $3 THEN 1 ELSE ephemeral_entries.counter + 1 END, \
               value = CASE WHEN ephemeral_entries.expires_at <= $3 THEN NULL ELSE ephemeral_entries.value END, \
               expires_at = CASE WHEN ephemeral_entries.expires_at <= $3 THEN excluded.expires_at \
                            ELSE ephemeral_entries.expires_at END \
             RETURNING counter",
        )
        .bind(key)
        .bind(now + millis(window))
        .bind(now)
        .fetch_one(&self.writer)
        .await?;
        let count: i64 = row.try_get("counter")?;
        Ok(count.max(0) as u64)
    }

    async fn counter(&self, key: &str) -> StoreResult<(u64, Duration)> {
        let now = now_millis();
        Ok(match self.live_row(key).await? {
            Some(row) => {
                let count: i64 = row.try_get("counter")?;
                let ends: i64 = row.try_get("expires_at")?;
                (count.max(0) as u64, left(ends, now))
            }
            None => (0, Duration::ZERO),
        })
    }

    async fn decr(&self, key: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE ephemeral_entries SET counter = counter - 1 WHERE key = $1 AND expires_at > $2 AND counter > 0",
        )
        .bind(key)
        .bind(now_millis())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> StoreResult<Option<Duration>> {
        let now = now_millis();
        let set = sqlx::query(
            "INSERT INTO ephemeral_entries (key, value, counter, expires_at) VALUES ($1, $2, 0, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, counter = 0, expires_at = excluded.expires_at \
             WHERE ephemeral_entries.expires_at <= $4 RETURNING key",
        )
        .bind(key)
        .bind(value)
        .bind(now + millis(ttl))
        .bind(now)
        .fetch_optional(&self.writer)
        .await?;
        if set.is_some() {
            return Ok(None);
        }
        Ok(Some(self.ttl(key).await?.unwrap_or(Duration::ZERO)))
    }

    async fn ttl(&self, key: &str) -> StoreResult<Option<Duration>> {
        let now = now_millis();
        self.live_row(key)
            .await?
            .map(|row| row.try_get("expires_at").map(|ends: i64| left(ends, now)))
            .transpose()
            .map_err(unavailable)
    }

    async fn put(&self, key: &str, value: &str, ttl: Duration) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO ephemeral_entries (key, value, counter, expires_at) VALUES ($1, $2, 0, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, counter = 0, expires_at = excluded.expires_at",
        )
        .bind(key)
        .bind(value)
        .bind(now_millis() + millis(ttl))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn get(&self, key: &str) -> StoreResult<Option<String>> {
        match self.live_row(key).await? {
            Some(row) => row.try_get("value").map_err(unavailable),
            None => Ok(None),
        }
    }

    async fn take(&self, key: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("DELETE FROM ephemeral_entries WHERE key = $1 RETURNING value, expires_at")
            .bind(key)
            .fetch_optional(&self.writer)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let ends: i64 = row.try_get("expires_at")?;
        if ends <= now_millis() {
            return Ok(None);
        }
        row.try_get("value").map_err(unavailable)
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM ephemeral_entries WHERE key = $1")
            .bind(key)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::cache_contract as contract;

    async fn store() -> SqlStore {
        let store = SqlStore::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    #[tokio::test]
    async fn counters_count_within_their_window_and_restart_after_it() {
        contract::counters_count_within_their_window_and_restart_after_it(&store().await).await;
    }

    #[tokio::test]
    async fn a_value_is_taken_once_and_a_lapsed_one_not_at_all() {
        contract::a_value_is_taken_once_and_a_lapsed_one_not_at_all(&store().await).await;
    }

    #[tokio::test]
    async fn only_the_first_put_if_absent_sets_until_it_lapses() {
        contract::only_the_first_put_if_absent_sets_until_it_lapses(&store().await).await;
    }

    #[tokio::test]
    async fn lapsed_entries_are_pruned() {
        let cache = store().await;
        cache.put("old", "x", Duration::from_millis(5)).await.unwrap();
        cache.put("new", "y", Duration::from_secs(60)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(cache.prune_ephemeral().await.unwrap(), 1);
        assert_eq!(cache.get("new").await.unwrap().as_deref(), Some("y"));
    }
}
