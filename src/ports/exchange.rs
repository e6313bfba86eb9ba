//! Ports for what the instances of one deployment share while they run (the cache, the
//! revocation bus), and for delivering a rendered message. The time is in [`super::clock`].

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::StoreResult;
use crate::domain::notification::{DeliveryError, OutgoingMessage};
use crate::domain::revocation::Revocation;

/// Delivers one message over its channel (SMTP, Twilio, or the development outbox folder).
#[async_trait]
pub trait MessageSender: Send + Sync {
    async fn send(&self, message: &OutgoingMessage) -> Result<(), DeliveryError>;
}

/// Spreads revocations to the other instances (Redis pub/sub), best effort: the database log
/// remains the source of truth, so a lost message only delays, never loses, a revocation.
#[async_trait]
pub trait RevocationBus: Send + Sync {
    async fn publish(&self, revocation: &Revocation) -> StoreResult<()>;
    /// Delivers revocations published by any instance (including this one) into `sink`
    /// until the sink closes.
    async fn listen(&self, sink: mpsc::Sender<Revocation>) -> StoreResult<()>;
    async fn ping(&self) -> StoreResult<()>;
}

/// Short-lived shared state: MFA challenges, passkey ceremonies, counters. On PostgreSQL
/// the database's `ephemeral_entries` (exact across instances, whatever Redis does); the
/// rate limiter's counters go to Redis; in-process on SQLite. See docs/ARCHITECTURE.md,
/// "Which cache holds what".
#[async_trait]
pub trait Cache: Send + Sync {
    /// Adds one to the counter at `key`, returning the new value; a new counter lives `window`.
    async fn incr(&self, key: &str, window: Duration) -> StoreResult<u64>;
    /// The counter at `key` (0 when absent) and how long it still lives.
    async fn counter(&self, key: &str) -> StoreResult<(u64, Duration)>;
    /// Takes one off the counter at `key` if it still lives (an attempt given back); an
    /// absent counter stays absent.
    async fn decr(&self, key: &str) -> StoreResult<()>;
    /// Sets `key` only when it is absent; returns `None` when set, or how long the
    /// existing value still lives. Of concurrent callers, only one sets it.
    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> StoreResult<Option<Duration>>;
    /// How long the value at `key` still lives; `None` when absent.
    async fn ttl(&self, key: &str) -> StoreResult<Option<Duration>>;
    async fn put(&self, key: &str, value: &str, ttl: Duration) -> StoreResult<()>;
    async fn get(&self, key: &str) -> StoreResult<Option<String>>;
    /// Removes and returns the value at `key`: of concurrent callers, only one gets it.
    async fn take(&self, key: &str) -> StoreResult<Option<String>>;
    async fn delete(&self, key: &str) -> StoreResult<()>;
}
