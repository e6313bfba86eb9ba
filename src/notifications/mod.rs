//! Outgoing messages: templates, the channel adapters (SMTP, Twilio, the development outbox
//! folder) and [`Notifier`], which records a message durably and wakes the notification
//! actor to deliver it. The HTTP request that causes a message never waits for delivery.

pub mod outbox_dir;
pub mod smtp;
pub mod templates;
pub mod twilio;

use std::sync::Arc;

use serde::Serialize;
use uuid::Uuid;

use crate::actors::notifications::NotificationMsg;
use crate::actors::ActorSlot;
use crate::crypto::secrets::Secrets;
use crate::domain::notification::DeliveryChannel;
use crate::domain::AuthError;
use crate::ports::{Clock, Outbox, QueuedMessage};
use templates::{Template, Templates};

/// Records messages and hands them to the notification actor.
pub struct Notifier {
    pub outbox: Arc<dyn Outbox>,
    pub secrets: Secrets,
    pub templates: Templates,
    pub clock: Arc<dyn Clock>,
    pub actor: ActorSlot<NotificationMsg>,
}

impl Notifier {
    /// Renders and stores the message (its payload encrypted), then wakes the actor.
    /// Returns once the message is durable; delivery happens in the background.
    pub async fn send(
        &self,
        template: Template,
        channel: DeliveryChannel,
        recipient: &str,
        context: impl Serialize,
    ) -> Result<Uuid, AuthError> {
        let message = self
            .templates
            .render(template, channel, recipient, context)
            .map_err(|err| {
                tracing::error!(%err, "message template failed");
                AuthError::Unavailable("notifications")
            })?;
        let payload = serde_json::to_vec(&message).expect("a message always serializes");
        let queued = QueuedMessage {
            id: Uuid::now_v7(),
            channel,
            recipient: recipient.to_owned(),
            payload_ciphertext: self.secrets.encrypt(&payload),
            attempts: 0,
        };
        let now_ms = (self.clock.now().unix_timestamp_nanos() / 1_000_000) as i64;
        self.outbox.enqueue(&queued, now_ms).await?;
        crate::telemetry::metrics::notification(channel.as_str(), "queued");
        if self.actor.cast(NotificationMsg::Wake).is_err() {
            tracing::warn!("notification actor unavailable; the message waits for its next poll");
        }
        Ok(queued.id)
    }
}
