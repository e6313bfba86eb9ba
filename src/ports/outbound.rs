//! What leaves the core towards people and observers: messages to a user, and security
//! events. Use cases say *what* happened; adapters decide how it is worded and where it goes.

use async_trait::async_trait;

use crate::domain::events::SecurityEvent;
use crate::domain::notification::{DeliveryChannel, Notice};
use crate::domain::AuthError;
use crate::ports::QueuedMessage;

/// Sends a message to a user. Returns once the message is durable (the outbox); delivery
/// happens in the background, with retries.
#[async_trait]
pub trait Messages: Send + Sync {
    async fn send(&self, notice: Notice, channel: DeliveryChannel, recipient: &str) -> Result<(), AuthError>;
}

/// Records security events that come with no change of their own (a failed sign-in, a
/// wrong code), durably in the audit log. Events of a change are written by the store that
/// makes it, in its transaction.
#[async_trait]
pub trait SecurityEvents: Send + Sync {
    /// Records `event`. Recording never fails the action it describes: an adapter that
    /// cannot record logs and counts the failure itself.
    async fn record(&self, event: SecurityEvent);
}

/// What follows an event a store writes: the webhook delivery, queued in the outbox in the
/// same transaction as the event, and the observers told once it commits. The store calls
/// it; `notifications::webhook` implements it.
pub trait EventFanOut: Send + Sync {
    /// The outbox message that posts `event` to the webhook; `None` when none is configured.
    fn webhook_message(&self, event: &SecurityEvent) -> Option<QueuedMessage>;
    /// `event` is committed: count it, and wake the delivery of its webhook message.
    fn committed(&self, event: &SecurityEvent);
}
