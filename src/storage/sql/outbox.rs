//! The SQL adapter of [`Outbox`]: a table the notification actor leases messages from.

use async_trait::async_trait;
use sqlx::Row;
use uuid::Uuid;

use super::{unavailable, uuid_column, SqlStore};
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
    .bind(message.id.to_string())
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
        sqlx::query(
            "UPDATE notifications SET status = 'sent', payload_ciphertext = NULL, attempts = attempts + 1, \
             lease_until = NULL, finished_at = $1 WHERE id = $2",
        )
        .bind(now_ms)
        .bind(id.to_string())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn mark_retry(&self, id: Uuid, next_attempt_at_ms: i64, error: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE notifications SET attempts = attempts + 1, next_attempt_at = $1, lease_until = NULL, last_error = $2 \
             WHERE id = $3",
        )
        .bind(next_attempt_at_ms)
        .bind(error)
        .bind(id.to_string())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn mark_failed(&self, id: Uuid, now_ms: i64, error: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE notifications SET status = 'failed', payload_ciphertext = NULL, attempts = attempts + 1, \
             lease_until = NULL, last_error = $1, finished_at = $2 WHERE id = $3",
        )
        .bind(error)
        .bind(now_ms)
        .bind(id.to_string())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn message_status(&self, id: Uuid) -> StoreResult<Option<(String, u32)>> {
        let row = sqlx::query("SELECT status, attempts FROM notifications WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok((row.try_get("status")?, row.try_get::<i64, _>("attempts")? as u32)))
            .transpose()
            .map_err(unavailable)
    }
}
