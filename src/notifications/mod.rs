//! Outgoing messages: templates, the channel adapters (SMTP, Twilio, the development outbox
//! folder) and [`Notifier`], the adapter of the [`Messages`] port, which words a notice,
//! records it durably and wakes the notification actor to deliver it. The HTTP request that
//! causes a message never waits for delivery.

pub mod outbox_dir;
pub mod smtp;
pub mod templates;
pub mod twilio;
pub mod webhook;

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::ExposeSecret as _;
use serde_json::json;

use crate::actors::notifications::NotificationMsg;
use crate::actors::ActorSlot;
use crate::domain::notification::{DeliveryChannel, Notice, SecurityNotice};
use crate::domain::AuthError;
use crate::ports::{Clock, DataKey, Messages, Outbox, QueuedMessage};
use templates::{Template, Templates};

/// Records messages and hands them to the notification actor.
pub struct Notifier {
    outbox: Arc<dyn Outbox>,
    data_key: Arc<dyn DataKey>,
    templates: Templates,
    clock: Arc<dyn Clock>,
    actor: ActorSlot<NotificationMsg>,
}

impl Notifier {
    pub fn new(
        outbox: Arc<dyn Outbox>,
        data_key: Arc<dyn DataKey>,
        templates: Templates,
        clock: Arc<dyn Clock>,
        actor: ActorSlot<NotificationMsg>,
    ) -> Self {
        Self {
            outbox,
            data_key,
            templates,
            clock,
            actor,
        }
    }
}

/// The template that words a notice, and what it fills in.
fn wording(notice: &Notice) -> (Template, serde_json::Value) {
    match notice {
        Notice::MfaCode { code } => (Template::MfaCode, json!({ "code": code.expose_secret() })),
        Notice::PasswordReset { link } => (Template::PasswordReset, json!({ "link": link.expose_secret() })),
        Notice::EmailVerification { link } => (Template::EmailVerification, json!({ "link": link.expose_secret() })),
        Notice::Security(notice) => {
            let mut context = json!({ "kind": notice.kind() });
            match notice {
                SecurityNotice::FactorAdded { strategy } | SecurityNotice::FactorRemoved { strategy } => {
                    context["strategy"] = json!(strategy);
                }
                SecurityNotice::EmailChanged { new_email } => context["newEmail"] = json!(new_email),
                SecurityNotice::NewDevice { user_agent, ip } => {
                    context["userAgent"] = json!(user_agent);
                    context["ip"] = json!(ip);
                }
                SecurityNotice::PasswordChanged
                | SecurityNotice::PasswordReset
                | SecurityNotice::RecoveryCodesCreated => {}
            }
            (Template::SecurityNotice, context)
        }
    }
}

#[async_trait]
impl Messages for Notifier {
    /// Renders and stores the message (its payload sealed), then wakes the actor.
    async fn send(&self, notice: Notice, channel: DeliveryChannel, recipient: &str) -> Result<(), AuthError> {
        let (template, context) = wording(&notice);
        let message = self
            .templates
            .render(template, channel, recipient, context)
            .map_err(|err| {
                tracing::error!(%err, "message template failed");
                AuthError::Unavailable("notifications")
            })?;
        let payload = serde_json::to_vec(&message).expect("a message always serializes");
        let queued = QueuedMessage {
            id: self.clock.new_id(),
            channel,
            recipient: recipient.to_owned(),
            payload_ciphertext: self.data_key.seal(&payload),
            attempts: 0,
        };
        let now_ms = (self.clock.now().unix_timestamp_nanos() / 1_000_000) as i64;
        self.outbox.enqueue(&queued, now_ms).await?;
        crate::telemetry::metrics::notification(channel.as_str(), "queued");
        if self.actor.cast(NotificationMsg::Wake).is_err() {
            tracing::warn!("notification actor unavailable; the message waits for its next poll");
        }
        Ok(())
    }
}
