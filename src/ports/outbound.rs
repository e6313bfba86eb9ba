//! What leaves the core towards people and observers: messages to a user, and security
//! events. Use cases say *what* happened; adapters decide how it is worded and where it goes.

use async_trait::async_trait;

use crate::domain::events::SecurityEvent;
use crate::domain::notification::{DeliveryChannel, Notice};
use crate::domain::AuthError;

/// Sends a message to a user. Returns once the message is durable (the outbox); delivery
/// happens in the background, with retries.
#[async_trait]
pub trait Messages: Send + Sync {
    async fn send(&self, notice: Notice, channel: DeliveryChannel, recipient: &str) -> Result<(), AuthError>;
}

/// Records security events. Every event is recorded from the one place its action happens.
#[async_trait]
pub trait SecurityEvents: Send + Sync {
    /// Records `event`. Recording never fails the action it describes: an adapter that
    /// cannot record logs and counts the failure itself.
    async fn record(&self, event: SecurityEvent);
}
