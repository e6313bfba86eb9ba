//! SMS and WhatsApp through Twilio's Messages REST API. The base URL is configurable so
//! tests can point it at a local fake.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret as _, SecretString};

use crate::domain::notification::{DeliveryChannel, DeliveryError, OutgoingMessage};
use crate::ports::MessageSender;

/// Twilio credentials and senders.
#[derive(Debug, Clone)]
pub struct TwilioConfig {
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: SecretString,
    /// E.164 sender for SMS.
    pub from: String,
    /// E.164 sender for WhatsApp (without the `whatsapp:` prefix).
    pub whatsapp_from: Option<String>,
}

pub struct TwilioSender {
    http: reqwest::Client,
    config: TwilioConfig,
}

impl TwilioSender {
    pub fn new(config: TwilioConfig) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(15)).build()?;
        Ok(Self { http, config })
    }
}

#[async_trait]
impl MessageSender for TwilioSender {
    async fn send(&self, message: &OutgoingMessage) -> Result<(), DeliveryError> {
        let (to, from) = match message.channel {
            DeliveryChannel::Sms => (message.recipient.clone(), self.config.from.clone()),
            DeliveryChannel::Whatsapp => {
                let sender = self.config.whatsapp_from.as_ref().unwrap_or(&self.config.from);
                (format!("whatsapp:{}", message.recipient), format!("whatsapp:{sender}"))
            }
            DeliveryChannel::Email | DeliveryChannel::Webhook => {
                return Err(DeliveryError::permanent("Twilio sends only SMS and WhatsApp"))
            }
        };
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.config.base_url.trim_end_matches('/'),
            self.config.account_sid
        );
        let response = self
            .http
            .post(url)
            .basic_auth(&self.config.account_sid, Some(self.config.auth_token.expose_secret()))
            .form(&[
                ("To", to.as_str()),
                ("From", from.as_str()),
                ("Body", message.text.as_str()),
            ])
            .send()
            .await
            .map_err(|e| DeliveryError::transient(format!("Twilio unreachable: {e}")))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let reason = format!("Twilio answered {status}");
        if status.is_client_error() && status.as_u16() != 429 {
            Err(DeliveryError::permanent(reason))
        } else {
            Err(DeliveryError::transient(reason))
        }
    }
}
