//! What follows a security event once a store writes it: it is counted in `/metrics`, and,
//! when `AUTH_WEBHOOK_URL` is set, queued in the outbox (in the event's own transaction) for
//! the notification actor to POST, signed, with the outbox's retries.
//!
//! The signature is `Authd-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
//! under `AUTH_WEBHOOK_SECRET`, made at each attempt so a receiver can refuse stale ones;
//! the body is the contract's Event object, whose `id` lets a receiver drop duplicates.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::Sha256;

use crate::actors::notifications::NotificationMsg;
use crate::actors::ActorSlot;
use crate::domain::events::SecurityEvent;
use crate::domain::notification::{DeliveryChannel, DeliveryError, OutgoingMessage};
use crate::ports::{Clock, DataKey, EventFanOut, MessageSender, QueuedMessage};
use crate::telemetry::metrics::SECURITY_EVENTS;

/// The header a webhook delivery is signed in.
pub const SIGNATURE_HEADER: &str = "Authd-Signature";

/// The [`EventFanOut`] of the server: metrics always, the webhook when configured.
pub struct EventPublisher {
    webhook_url: Option<String>,
    data_key: Arc<dyn DataKey>,
    actor: ActorSlot<NotificationMsg>,
}

impl EventPublisher {
    pub fn new(webhook_url: Option<String>, data_key: Arc<dyn DataKey>, actor: ActorSlot<NotificationMsg>) -> Self {
        Self {
            webhook_url,
            data_key,
            actor,
        }
    }
}

impl EventFanOut for EventPublisher {
    fn webhook_message(&self, event: &SecurityEvent) -> Option<QueuedMessage> {
        let url = self.webhook_url.as_ref()?;
        let message = OutgoingMessage {
            channel: DeliveryChannel::Webhook,
            recipient: url.clone(),
            subject: None,
            text: event.to_document().to_string(),
            html: None,
        };
        let payload = serde_json::to_vec(&message).expect("a message always serializes");
        Some(QueuedMessage {
            // One delivery per event: the event's id names it.
            id: event.id,
            channel: DeliveryChannel::Webhook,
            recipient: url.clone(),
            payload_ciphertext: self.data_key.seal(&payload),
            attempts: 0,
        })
    }

    fn committed(&self, event: &SecurityEvent) {
        metrics::counter!(SECURITY_EVENTS, "type" => event.kind.as_str()).increment(1);
        tracing::debug!(event = event.kind.as_str(), user = ?event.user_id, "security event");
        if self.webhook_url.is_some() && self.actor.cast(NotificationMsg::Wake).is_err() {
            tracing::warn!("notification actor unavailable; the webhook waits for its next poll");
        }
    }
}

/// `t=<t>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub fn signature(secret: &[u8], t: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(format!("{t}.{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("t={t},v1={hex}")
}

/// Posts webhook deliveries to the URL configured now (a delivery queued before the URL
/// changed goes to the new one). Any answer but a 2xx is retried (a receiver that is down
/// or misconfigured may come back), until the outbox gives up.
pub struct WebhookSender {
    http: reqwest::Client,
    url: String,
    secret: SecretString,
    clock: Arc<dyn Clock>,
}

impl WebhookSender {
    pub fn new(url: String, secret: SecretString, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
        Ok(Self {
            http,
            url,
            secret,
            clock,
        })
    }
}

#[async_trait]
impl MessageSender for WebhookSender {
    async fn send(&self, message: &OutgoingMessage) -> Result<(), DeliveryError> {
        if message.channel != DeliveryChannel::Webhook {
            return Err(DeliveryError::permanent("the webhook sender only posts events"));
        }
        let signed = signature(
            self.secret.expose_secret().as_bytes(),
            self.clock.unix_now(),
            &message.text,
        );
        let response = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signed)
            .body(message.text.clone())
            .send()
            .await
            .map_err(|e| DeliveryError::transient(format!("webhook unreachable: {e}")))?;
        match response.status() {
            status if status.is_success() => Ok(()),
            status => Err(DeliveryError::transient(format!("webhook answered {status}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_an_hmac_of_the_time_and_the_body() {
        // HMAC-SHA256("secret", "1700000000.{}"), computed with openssl:
        // printf '1700000000.{}' | openssl dgst -sha256 -hmac secret
        let signed = signature(b"secret", 1_700_000_000, "{}");
        assert_eq!(
            signed,
            "t=1700000000,v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
        assert_ne!(signed, signature(b"other", 1_700_000_000, "{}"));
        assert_ne!(signed, signature(b"secret", 1_700_000_001, "{}"));
    }
}
