//! The audit log: events written inside the transaction of the change they record (with
//! their webhook delivery queued in the same transaction), the standalone ones of the
//! [`SecurityEvents`] port, and the reads and pruning of [`EventLog`].

use std::str::FromStr;

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::outbox::insert_message;
use super::{optional_uuid_column, unavailable, uuid_column, BindId as _, SqlStore};
use crate::domain::events::{EventKind, EventQuery, Origin, SecurityEvent};
use crate::ports::{EventFanOut, EventLog, QueuedMessage, SecurityEvents, StoreResult};

/// Writes `event`, and its webhook message when there is a webhook, in `tx`.
async fn write(tx: &mut Transaction<'_, Any>, fan_out: &dyn EventFanOut, event: &SecurityEvent) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO security_events (id, type, user_id, at, ip, user_agent, data) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind_id(event.id)
    .bind(event.kind.as_str())
    .bind(event.user_id.map(|id| id.to_string()))
    .bind(event.at)
    .bind(event.origin.as_ref().map(|o| o.ip.to_string()))
    .bind(event.origin.as_ref().and_then(|o| o.user_agent.clone()))
    .bind(serde_json::Value::Object(event.data.clone()).to_string())
    .execute(&mut **tx)
    .await?;
    if let Some(message) = fan_out.webhook_message(event) {
        insert_message(&mut **tx, &message, event.at * 1000).await?;
    }
    Ok(())
}

impl SqlStore {
    /// Writes `event` into `tx`, commits, and tells the fan-out: the one way a change and
    /// its event are made durable together.
    pub(super) async fn commit_with(&self, mut tx: Transaction<'_, Any>, event: &SecurityEvent) -> StoreResult<()> {
        write(&mut tx, self.fan_out.as_ref(), event).await?;
        tx.commit().await?;
        self.fan_out.committed(event);
        Ok(())
    }

    /// Like [`Self::commit_with`] when the change touched exactly one row (`touched`);
    /// otherwise the transaction rolls back and the answer is false.
    pub(super) async fn commit_one_with(
        &self,
        tx: Transaction<'_, Any>,
        touched: u64,
        event: &SecurityEvent,
    ) -> StoreResult<bool> {
        if touched != 1 {
            return Ok(false);
        }
        self.commit_with(tx, event).await?;
        Ok(true)
    }
}

fn event_from_row(row: &AnyRow) -> Result<SecurityEvent, sqlx::Error> {
    let kind: String = row.try_get("type")?;
    let ip: Option<String> = row.try_get("ip")?;
    let data: String = row.try_get("data")?;
    let decode = |reason: String| sqlx::Error::Decode(reason.into());
    Ok(SecurityEvent {
        id: uuid_column(row, "id")?,
        kind: EventKind::parse(&kind).ok_or_else(|| decode(format!("unknown event type {kind}")))?,
        user_id: optional_uuid_column(row, "user_id")?,
        at: row.try_get("at")?,
        origin: ip
            .map(|ip| {
                Ok::<_, sqlx::Error>(Origin {
                    ip: std::net::IpAddr::from_str(&ip).map_err(|e| decode(e.to_string()))?,
                    user_agent: row.try_get("user_agent")?,
                })
            })
            .transpose()?,
        data: serde_json::from_str(&data).map_err(|e| decode(e.to_string()))?,
    })
}

#[async_trait]
impl SecurityEvents for SqlStore {
    async fn record(&self, event: SecurityEvent) {
        let written = async {
            let tx = self.writer.begin().await?;
            self.commit_with(tx, &event).await
        };
        if let Err(err) = written.await {
            tracing::error!(event = event.kind.as_str(), %err, "could not record a security event");
            metrics::counter!(crate::telemetry::metrics::SECURITY_EVENTS_LOST).increment(1);
        }
    }
}

#[async_trait]
impl EventLog for SqlStore {
    async fn events(&self, query: &EventQuery) -> StoreResult<Vec<SecurityEvent>> {
        // Every filter is optional: a NULL parameter lets every row through.
        let rows = sqlx::query(
            "SELECT * FROM security_events \
             WHERE ($1 IS NULL OR user_id = $1) AND ($2 IS NULL OR type = $2) \
               AND ($3 IS NULL OR at >= $3) AND ($4 IS NULL OR id < $4) \
             ORDER BY id DESC LIMIT $5",
        )
        .bind(query.user_id.map(|id| id.to_string()))
        .bind(query.kind.map(EventKind::as_str))
        .bind(query.since)
        .bind(query.before.map(|id| id.to_string()))
        .bind(i64::from(query.limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(event_from_row)
            .collect::<Result<_, _>>()
            .map_err(unavailable)
    }

    async fn prune_events(&self, before: i64) -> StoreResult<u64> {
        let result = sqlx::query("DELETE FROM security_events WHERE at < $1")
            .bind(before)
            .execute(&self.writer)
            .await?;
        Ok(result.rows_affected())
    }
}

/// The fan-out of a store nobody gave one: no webhook, nothing to tell.
pub(super) struct Silent;

impl EventFanOut for Silent {
    fn webhook_message(&self, _event: &SecurityEvent) -> Option<QueuedMessage> {
        None
    }

    fn committed(&self, _event: &SecurityEvent) {}
}
