//! Password reset by e-mailed link, and password change for a signed-in user. Either ends
//! the account's other sessions on every instance.

use std::sync::Arc;

use secrecy::{ExposeSecret as _, SecretString};

use super::notices::Notices;
use super::password_rules::PasswordRules;
use super::sessions::Sessions;
use super::throttle::{Attempter, Throttle};
use super::{account_of, Ports};
use crate::domain::events::{EventKind, Origin, SecurityEvent};
use crate::domain::notification::{DeliveryChannel, Notice, SecurityNotice};
use crate::domain::password_policy::check_presented_password;
use crate::domain::reset::PasswordResetPolicy;
use crate::domain::throttle::Action;
use crate::domain::token::Claims;
use crate::domain::user::Email;
use crate::domain::AuthError;
use crate::ports::{Cache, Clock, DataKey, Messages, OneTimeSecrets, PasswordHashing, PasswordResetStore, UserStore};

/// Digest purpose of reset hashes.
const RESET: &str = "password-reset";
/// The purpose of the digest a reset e-mail counter is kept under: the shared cache (the
/// database, on PostgreSQL) never holds the address itself.
const RESET_MAIL: &str = "reset-mail";

/// Resets and changes passwords.
#[derive(Clone)]
pub struct Passwords {
    users: Arc<dyn UserStore>,
    resets: Arc<dyn PasswordResetStore>,
    hasher: Arc<dyn PasswordHashing>,
    data_key: Arc<dyn DataKey>,
    secrets: Arc<dyn OneTimeSecrets>,
    messages: Arc<dyn Messages>,
    cache: Arc<dyn Cache>,
    clock: Arc<dyn Clock>,
    throttle: Throttle,
    sessions: Arc<Sessions>,
    rules: Arc<PasswordRules>,
    notices: Arc<Notices>,
    policy: Arc<PasswordResetPolicy>,
}

/// The services a password change involves besides storage.
pub struct PasswordHelpers {
    pub throttle: Throttle,
    pub sessions: Arc<Sessions>,
    pub rules: Arc<PasswordRules>,
    pub notices: Arc<Notices>,
}

impl Passwords {
    pub fn new(ports: &Ports, helpers: PasswordHelpers, policy: PasswordResetPolicy) -> Self {
        Self {
            users: ports.users.clone(),
            resets: ports.resets.clone(),
            hasher: ports.hasher.clone(),
            data_key: ports.data_key.clone(),
            secrets: ports.secrets.clone(),
            messages: ports.messages.clone(),
            cache: ports.cache.clone(),
            clock: ports.clock.clone(),
            throttle: helpers.throttle,
            sessions: helpers.sessions,
            rules: helpers.rules,
            notices: helpers.notices,
            policy: Arc::new(policy),
        }
    }

    /// Accepts a reset request. Whether or not the address has an account, the answer is
    /// the same and comes at once: the look-up and the e-mail happen in the background.
    /// Requests are throttled per address and client whether or not the account exists.
    pub async fn request_reset(&self, email: &str, origin: &Origin) -> Result<(), AuthError> {
        let email = Email::parse(email)?;
        let normalized = email.normalized();
        let who = Attempter {
            account: Some(&normalized),
            client: origin.ip,
        };
        self.throttle
            .attempt(Action::PasswordForget, who, async { Ok(()) })
            .await?;
        let passwords = self.clone();
        tokio::spawn(async move {
            if let Err(err) = passwords.send_reset_link(&email).await {
                tracing::warn!(%err, "password reset e-mail not sent");
            }
        });
        Ok(())
    }

    async fn send_reset_link(&self, email: &Email) -> Result<(), AuthError> {
        let Some(user) = self.users.user_by_email(email).await? else {
            return Ok(());
        };
        let sent = self
            .cache
            .incr(
                &format!("reset-mail:{}", self.data_key.digest(RESET_MAIL, &email.normalized())),
                self.policy.rate_window,
            )
            .await?;
        if sent > self.policy.max_per_window {
            tracing::info!("password reset e-mail limit reached for an address; nothing sent");
            return Ok(());
        }
        let hash = self.secrets.random_token(32);
        let now = self.clock.unix_now();
        let expires_at = now + self.policy.ttl.as_secs() as i64;
        let digest = self.data_key.digest(RESET, hash.expose_secret());
        self.resets
            .insert_reset(user.id, &digest, expires_at, self.clock.stamp_at(now))
            .await?;
        let link = SecretString::from(self.policy.link(hash.expose_secret()));
        self.messages
            .send(
                Notice::PasswordReset { link },
                DeliveryChannel::Email,
                user.email.as_str(),
            )
            .await
    }

    /// Sets a new password with a reset hash, then ends every session of the user on every
    /// instance. A weak password leaves the hash usable.
    pub async fn recover(&self, hash: &SecretString, password: SecretString, origin: &Origin) -> Result<(), AuthError> {
        let digest = self.data_key.digest(RESET, hash.expose_secret());
        let now = self.clock.unix_now();
        let user_id = self
            .resets
            .pending_reset_user(&digest, now)
            .await?
            .ok_or(AuthError::InvalidHash)?;
        let user = self.users.user_by_id(user_id).await?.ok_or(AuthError::InvalidHash)?;
        self.rules.check(&password, &[&user.name, user.email.as_str()]).await?;
        let password_hash = self.hasher.hash(password).await?;
        let event = SecurityEvent::new(EventKind::PasswordReset, None, self.clock.stamp()).from(origin);
        let user_id = self
            .resets
            .complete_reset(&digest, &password_hash, self.clock.unix_now(), &event)
            .await?
            .ok_or(AuthError::InvalidHash)?;
        self.sessions.end_all(user_id, None).await?;
        self.notices.tell(&user.email, SecurityNotice::PasswordReset).await;
        Ok(())
    }

    /// Changes the caller's password after checking the current one; the caller's other
    /// sessions end, this one stays.
    pub async fn change(
        &self,
        caller: &Claims,
        current: SecretString,
        new: SecretString,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        check_presented_password("currentPassword", current.expose_secret())?;
        let user = account_of(self.users.as_ref(), caller).await?;
        self.rules.check(&new, &[&user.name, user.email.as_str()]).await?;
        let account = user.id.to_string();
        let who = Attempter {
            account: Some(&account),
            client: origin.ip,
        };
        let verified = self.hasher.verify(current, Some(user.password_hash.clone()));
        let current_matches = async { verified.await?.then_some(()).ok_or(AuthError::InvalidCredentials) };
        self.throttle
            .attempt(Action::PasswordChange, who, current_matches)
            .await?;
        let password_hash = self.hasher.hash(new).await?;
        let event = SecurityEvent::new(EventKind::PasswordChanged, Some(user.id), self.clock.stamp()).from(origin);
        self.users.set_password_hash(user.id, &password_hash, &event).await?;
        self.sessions.end_all(user.id, Some(caller.sid)).await?;
        self.notices.tell(&user.email, SecurityNotice::PasswordChanged).await;
        Ok(())
    }
}
