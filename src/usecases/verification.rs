//! E-mail verification: a link sent to the account's address (at sign-up, after a change,
//! on request, and when `required` turns a sign-in away) proves the address. Links are
//! random, kept only as keyed digests, work once for 24 h, and a new one voids the old.

use std::sync::Arc;

use secrecy::{ExposeSecret as _, SecretString};

use super::{account_of, Ports};
use crate::domain::events::{EventKind, Origin, SecurityEvent};
use crate::domain::notification::{DeliveryChannel, Notice};
use crate::domain::token::Claims;
use crate::domain::user::User;
use crate::domain::verification::VerificationPolicy;
use crate::domain::AuthError;
use crate::ports::{Cache, Clock, DataKey, Messages, OneTimeSecrets, UserStore, VerificationStore};

/// Digest purpose of verification hashes.
const VERIFY: &str = "email-verification";
/// The purpose of the digest a verification e-mail counter is kept under, so the shared
/// cache holds nothing that names the account.
const VERIFY_MAIL: &str = "verify-mail";

/// Sends verification links and follows them.
pub struct EmailVerification {
    users: Arc<dyn UserStore>,
    links: Arc<dyn VerificationStore>,
    data_key: Arc<dyn DataKey>,
    secrets: Arc<dyn OneTimeSecrets>,
    messages: Arc<dyn Messages>,
    cache: Arc<dyn Cache>,
    clock: Arc<dyn Clock>,
    policy: VerificationPolicy,
}

impl EmailVerification {
    pub fn new(ports: &Ports, policy: VerificationPolicy) -> Self {
        Self {
            users: ports.users.clone(),
            links: ports.verifications.clone(),
            data_key: ports.data_key.clone(),
            secrets: ports.secrets.clone(),
            messages: ports.messages.clone(),
            cache: ports.cache.clone(),
            clock: ports.clock.clone(),
            policy,
        }
    }

    /// Whether sign-in must wait until `user` has verified their address.
    pub fn blocks_sign_in(&self, user: &User) -> bool {
        self.policy.blocks_sign_in(user.email_verified)
    }

    /// Whether accounts are sent verification links at all (the mode is not `off`).
    pub fn sends_links(&self) -> bool {
        self.policy.sends_links()
    }

    /// Sends a link by itself (sign-up, address change, a refused sign-in) unless the mode
    /// is `off`; over the e-mail limit nothing is sent, and a failure is only logged.
    pub(crate) async fn offer_link(&self, user: &User) {
        if !self.policy.sends_links() || user.email_verified {
            return;
        }
        match self.send_link(user).await {
            Ok(()) | Err(AuthError::RateLimited { .. }) => {}
            Err(err) => tracing::warn!(%err, "verification e-mail not sent"),
        }
    }

    /// A new link for the caller, voiding older ones; nothing is sent for an address that
    /// is verified already. Limited per account like reset e-mails (429 beyond).
    pub async fn resend(&self, caller: &Claims) -> Result<(), AuthError> {
        let user = account_of(self.users.as_ref(), caller).await?;
        if user.email_verified {
            return Ok(());
        }
        self.send_link(&user).await
    }

    async fn send_link(&self, user: &User) -> Result<(), AuthError> {
        let sent = self
            .cache
            .incr(
                &format!(
                    "verify-mail:{}",
                    self.data_key.digest(VERIFY_MAIL, &user.id.to_string())
                ),
                self.policy.rate_window,
            )
            .await?;
        if sent > self.policy.max_per_window {
            return Err(AuthError::RateLimited {
                retry_after: self.policy.rate_window,
            });
        }
        let hash = self.secrets.random_token(32);
        let now = self.clock.unix_now();
        let digest = self.data_key.digest(VERIFY, hash.expose_secret());
        let expires_at = now + self.policy.ttl.as_secs() as i64;
        self.links
            .insert_verification(user.id, &user.email, &digest, expires_at, self.clock.stamp_at(now))
            .await?;
        let link = SecretString::from(self.policy.link(hash.expose_secret()));
        self.messages
            .send(
                Notice::EmailVerification { link },
                DeliveryChannel::Email,
                user.email.as_str(),
            )
            .await
    }

    /// Follows a link: marks the address it was sent to verified. An unknown, used or
    /// expired hash, or one for an address the account no longer has, is `invalid_hash`.
    pub async fn verify(&self, hash: &SecretString, origin: &Origin) -> Result<(), AuthError> {
        let digest = self.data_key.digest(VERIFY, hash.expose_secret());
        let now = self.clock.unix_now();
        let event = SecurityEvent::new(EventKind::EmailVerified, None, self.clock.stamp_at(now)).from(origin);
        self.links
            .complete_verification(&digest, now, &event)
            .await?
            .ok_or(AuthError::InvalidHash)?;
        Ok(())
    }
}
