//! What enrolment and login challenges share: sending a one-time code to a factor's
//! destination, and checking a code against its digest or a TOTP seed.

use std::sync::Arc;

use secrecy::{ExposeSecret as _, SecretString};

use crate::domain::mfa::{Factor, PhoneChannel, Strategy};
use crate::domain::notification::{DeliveryChannel, Notice};
use crate::domain::user::User;
use crate::domain::AuthError;
use crate::ports::{Clock, DataKey, Messages, MfaStore, OneTimeSecrets};
use crate::usecases::Ports;

/// Digest purpose of sent codes.
const CODE: &str = "mfa-code";

/// Makes, sends and checks one-time codes.
#[derive(Clone)]
pub struct Codes {
    data_key: Arc<dyn DataKey>,
    secrets: Arc<dyn OneTimeSecrets>,
    messages: Arc<dyn Messages>,
    factors: Arc<dyn MfaStore>,
    clock: Arc<dyn Clock>,
}

impl Codes {
    pub fn new(ports: &Ports) -> Self {
        Self {
            data_key: ports.data_key.clone(),
            secrets: ports.secrets.clone(),
            messages: ports.messages.clone(),
            factors: ports.factors.clone(),
            clock: ports.clock.clone(),
        }
    }

    /// A fresh code and its digest, the only form that is stored.
    pub fn fresh(&self) -> (SecretString, String) {
        let code = self.secrets.six_digit_code();
        let digest = self.data_key.digest(CODE, code.expose_secret());
        (code, digest)
    }

    /// Whether `code` is the one with this digest (constant time).
    pub fn matches(&self, code: &SecretString, digest: &str) -> bool {
        self.data_key.matches(CODE, code.expose_secret(), digest)
    }

    /// Sends `code` to the factor's destination: the e-mail address, or the phone by SMS
    /// or WhatsApp.
    pub async fn send(&self, user: &User, factor: &Factor, code: SecretString) -> Result<(), AuthError> {
        let (channel, recipient) = match (factor.strategy, factor.channel) {
            (Strategy::Phone, Some(PhoneChannel::Whatsapp)) => (DeliveryChannel::Whatsapp, user.phone.clone()),
            (Strategy::Phone, _) => (DeliveryChannel::Sms, user.phone.clone()),
            _ => (DeliveryChannel::Email, Some(user.email.as_str().to_owned())),
        };
        let recipient = recipient.ok_or(AuthError::PhoneRequired)?;
        self.messages.send(Notice::MfaCode { code }, channel, &recipient).await
    }

    /// A current TOTP code whose step was never used for this factor; the step is claimed.
    pub async fn totp_accepts(&self, factor: &Factor, code: &SecretString) -> Result<bool, AuthError> {
        let Some(seed) = factor.secret_ciphertext.as_deref().and_then(|c| self.data_key.open(c)) else {
            return Ok(false);
        };
        let now = self.clock.unix_now();
        match self
            .secrets
            .totp_step(seed.expose_secret(), code.expose_secret().trim(), now)
        {
            Some(step) => Ok(self.factors.claim_totp_step(factor.id, step).await?),
            None => Ok(false),
        }
    }
}
