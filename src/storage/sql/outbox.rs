//! The SQL adapter of [`Outbox`]: a table the notification actor leases messages from.

use async_trait::async_trait;
use sqlx::Row;
use uuid::Uuid;

use super::{unavailable, uuid_column, BindId as _, SqlStore};
use crate::domain::notification::DeliveryChannel;
use crate::ports::{Outbox, QueuedMessage, StoreResult};

/// Queues `message`, due at once; also used inside an event's transaction (`events`).
pub(super) async fn insert_message<'c, E>(executor: E, message: &QueuedMessage, now_ms: i64) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO notifications (id, channel, recipient, payload_ciphertext, status, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)",
    )
    .bind_id(message.id)
    .bind(message.channel.as_str())
    .bind(&message.recipient)
    .bind(&message.payload_ciphertext)
    .bind(now_ms)
    .execute(executor)
    .await?;
    Ok(())
}

#[async_trait]
impl Outbox for SqlStore {
    async fn enqueue(&self, message: &QueuedMessage, now_ms: i64) -> StoreResult<()> {
        insert_message(&self.writer, message, now_ms).await.map_err(unavailable)
    }

    async fn claim_due(&self, now_ms: i64, lease_until_ms: i64, limit: u32) -> StoreResult<Vec<QueuedMessage>> {
        // The outer condition is re-checked under the row lock, so two instances that pick
        // the same ids lease each message only once.
        let rows = sqlx::query(
            "UPDATE notifications SET lease_until = $1 \
             WHERE id IN (SELECT id FROM notifications WHERE status = 'pending' AND next_attempt_at <= $2 \
                          AND (lease_until IS NULL OR lease_until <= $2) ORDER BY next_attempt_at LIMIT $3) \
               AND status = 'pending' AND (lease_until IS NULL OR lease_until <= $2) \
             RETURNING id, channel, recipient, payload_ciphertext, attempts",
        )
        .bind(lease_until_ms)
        .bind(now_ms)
        .bind(i64::from(limit))
        .fetch_all(&self.writer)
        .await?;
        rows.iter()
            .map(|row| {
                let channel: String = row.try_get("channel")?;
                Ok(QueuedMessage {
                    id: uuid_column(row, "id")?,
                    channel: DeliveryChannel::from_stored(&channel)
                        .ok_or_else(|| sqlx::Error::Decode(format!("unknown channel {channel}").into()))?,
                    recipient: row.try_get("recipient")?,
                    payload_ciphertext: row
                        .try_get::<Option<String>, _>("payload_ciphertext")?
                        .unwrap_or_default(),
                    attempts: row.try_get::<i64, _>("attempts")? as u32,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(unavailable)
    }

    async fn mark_sent(&self, id: Uuid, now_ms: i64) -> StoreResult<()> {
        self.record_attempt(id, Attempt::Sent { now_ms }).await
    }

    async fn mark_retry(&self, id: Uuid, next_attempt_at_ms: i64, error: &str) -> StoreResult<()> {
        self.record_attempt(
            id,
            Attempt::Retry {
                next_attempt_at_ms,
                error,
            },
        )
        .await
    }

    async fn mark_failed(&self, id: Uuid, now_ms: i64, error: &str) -> StoreResult<()> {
        self.record_attempt(id, Attempt::Failed { now_ms, error }).await
    }

    async fn message_status(&self, id: Uuid) -> StoreResult<Option<(String, u32)>> {
        let row = sqlx::query("SELECT status, attempts FROM notifications WHERE id = $1")
            .bind_id(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok((row.try_get("status")?, row.try_get::<i64, _>("attempts")? as u32)))
            .transpose()
            .map_err(unavailable)
    }
}

/// How a delivery attempt ended, as the row records it.
enum Attempt<'a> {
    /// Delivered: the payload is erased.
    Sent { now_ms: i64 },
    /// Failed for now: due again at `next_attempt_at_ms`.
    Retry { next_attempt_at_ms: i64, error: &'a str },
    /// Failed for good: the payload is erased, the error kept.
    Failed { now_ms: i64, error: &'a str },
}

impl SqlStore {
    /// The one transition of a leased message: one more attempt, the lease released, and
    /// the row sent, due again, or failed.
    async fn record_attempt(&self, id: Uuid, attempt: Attempt<'_>) -> StoreResult<()> {
        let (status, next_attempt_at, finished_at, error) = match attempt {
            Attempt::Sent { now_ms } => ("sent", None, Some(now_ms), None),
            Attempt::Retry {
                next_attempt_at_ms,
                error,
            } => ("pending", Some(next_attempt_at_ms), None, Some(error)),
            Attempt::Failed { now_ms, error } => ("failed", None, Some(now_ms), Some(error)),
        };
        sqlx::query(
            "UPDATE notifications SET status = $1, attempts = attempts + 1, lease_until = NULL, \
             next_attempt_at = COALESCE($2, next_attempt_at), finished_at = $3, \
             last_error = COALESCE($4, last_error), \
             payload_ciphertext = CASE WHEN $1 = 'pending' THEN payload_ciphertext ELSE NULL END \
             WHERE id = $5",
        )
        .bind(status)
        .bind(next_attempt_at)
        .bind(finished_at)
        .bind(error)
        .bind_id(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
