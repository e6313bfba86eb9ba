//! Messages the server sends: what, to whom, over which channel, and how delivery failed.

use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// What a message says, before it is worded by a template. The values it carries are
/// secrets (a code, a link with a single-use hash) until the message is rendered and sealed.
#[derive(Debug, Clone)]
pub enum Notice {
    /// A one-time MFA code.
    MfaCode { code: SecretString },
    /// A password reset link.
    PasswordReset { link: SecretString },
    /// A link that verifies the address it is sent to.
    EmailVerification { link: SecretString },
    /// Something changed in the account's security, told to its owner.
    Security(SecurityNotice),
}

/// What a security notice tells the account's owner. None carries a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityNotice {
    PasswordChanged,
    PasswordReset,
    FactorAdded {
        strategy: &'static str,
    },
    FactorRemoved {
        strategy: &'static str,
    },
    RecoveryCodesCreated,
    /// Sent to the old address.
    EmailChanged {
        new_email: String,
    },
    /// A sign-in from a device not seen in the last 30 days.
    NewDevice {
        user_agent: Option<String>,
        ip: String,
    },
}

impl SecurityNotice {
    /// The notice's name, as the template tells them apart.
    pub fn kind(&self) -> &'static str {
        match self {
            SecurityNotice::PasswordChanged => "password_changed",
            SecurityNotice::PasswordReset => "password_reset",
            SecurityNotice::FactorAdded { .. } => "factor_added",
            SecurityNotice::FactorRemoved { .. } => "factor_removed",
            SecurityNotice::RecoveryCodesCreated => "recovery_codes_created",
            SecurityNotice::EmailChanged { .. } => "email_changed",
            SecurityNotice::NewDevice { .. } => "new_device",
        }
    }
}

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryChannel {
    Email,
    Sms,
    Whatsapp,
    /// The operator's webhook (`AUTH_WEBHOOK_URL`); the message is a signed event.
    Webhook,
}

impl DeliveryChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryChannel::Email => "email",
            DeliveryChannel::Sms => "sms",
            DeliveryChannel::Whatsapp => "whatsapp",
            DeliveryChannel::Webhook => "webhook",
        }
    }

    pub fn from_stored(text: &str) -> Option<Self> {
        match text {
            "email" => Some(DeliveryChannel::Email),
            "sms" => Some(DeliveryChannel::Sms),
            "whatsapp" => Some(DeliveryChannel::Whatsapp),
            "webhook" => Some(DeliveryChannel::Webhook),
            _ => None,
        }
    }
}

/// A rendered message, ready to deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMessage {
    pub channel: DeliveryChannel,
    /// An email address or an E.164 phone number.
    pub recipient: String,
    /// E-mail only.
    pub subject: Option<String>,
    pub text: String,
    /// E-mail only.
    pub html: Option<String>,
}

/// Why a delivery failed; a permanent failure is not retried.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{reason}")]
pub struct DeliveryError {
    pub permanent: bool,
    pub reason: String,
}

impl DeliveryError {
    pub fn transient(reason: impl Into<String>) -> Self {
        Self {
            permanent: false,
            reason: reason.into(),
        }
    }

    pub fn permanent(reason: impl Into<String>) -> Self {
        Self {
            permanent: true,
            reason: reason.into(),
        }
    }
}

/// When to retry after `attempts` failed deliveries: `base` doubling each time, at most `cap`.
pub fn retry_delay(attempts: u32, base: Duration, cap: Duration) -> Duration {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
    base.saturating_mul(factor).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_a_cap() {
        let (base, cap) = (Duration::from_secs(1), Duration::from_secs(60));
        let delays: Vec<u64> = (1..=8).map(|a| retry_delay(a, base, cap).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(retry_delay(1_000, base, cap), cap);
    }
}
