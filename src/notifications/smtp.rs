//! E-mail over SMTP with lettre (`AUTH_SMTP_URL`: `smtp://host:port` for plain SMTP,
//! `smtps://user:pass@host` for TLS, `smtp://...?tls=required` for STARTTLS).

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::domain::notification::{DeliveryError, OutgoingMessage};
use crate::ports::MessageSender;

pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpSender {
    pub fn new(url: &str, from: &str) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?
            .timeout(Some(Duration::from_secs(10)))
            .build();
        Ok(Self {
            transport,
            from: from.parse().map_err(|e| anyhow::anyhow!("AUTH_MAIL_FROM: {e}"))?,
        })
    }
}

#[async_trait]
impl MessageSender for SmtpSender {
    async fn send(&self, message: &OutgoingMessage) -> Result<(), DeliveryError> {
        let to: Mailbox = message
            .recipient
            .parse()
            .map_err(|e| DeliveryError::permanent(format!("bad recipient: {e}")))?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone().unwrap_or_default())
            .multipart(MultiPart::alternative_plain_html(
                message.text.clone(),
                message.html.clone().unwrap_or_else(|| message.text.clone()),
            ))
            .map_err(|e| DeliveryError::permanent(format!("cannot build the e-mail: {e}")))?;
        match self.transport.send(email).await {
            Ok(_) => Ok(()),
            Err(err) if err.is_permanent() => Err(DeliveryError::permanent(err.to_string())),
            Err(err) => Err(DeliveryError::transient(err.to_string())),
        }
    }
}
