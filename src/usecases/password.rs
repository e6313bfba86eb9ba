//! Password reset by e-mailed link, and password change for a signed-in user.

use std::net::IpAddr;

use serde_json::json;

use super::throttle::Attempter;
use super::Core;
use crate::crypto::secrets::random_token;
use crate::domain::notification::DeliveryChannel;
use crate::domain::password_policy::{check_password, MAX_PASSWORD_LEN};
use crate::domain::throttle::Action;
use crate::domain::token::Claims;
use crate::domain::user::Email;
use crate::domain::AuthError;
use crate::notifications::templates::Template;

/// Digest purpose of reset hashes.
const RESET: &str = "password-reset";

impl Core {
    /// Accepts a reset request. Whether or not the address has an account, the answer is
    /// the same and comes at once: the look-up and the e-mail happen in the background.
    /// Requests are throttled per address and client whether or not the account exists.
    pub async fn request_password_reset(&self, email: &str, client: IpAddr) -> Result<(), AuthError> {
        let email = Email::parse(email)?;
        let normalized = email.normalized();
        let who = Attempter {
            account: Some(&normalized),
            client,
        };
        self.throttle
            .attempt(Action::PasswordForget, who, async { Ok(()) })
            .await?;
        let core = self.clone();
        tokio::spawn(async move {
            if let Err(err) = core.send_reset_link(&email).await {
                tracing::warn!(%err, "password reset e-mail not sent");
            }
        });
        Ok(())
    }

    async fn send_reset_link(&self, email: &Email) -> Result<(), AuthError> {
        let Some(user) = self.users.user_by_email(&email.normalized()).await? else {
            return Ok(());
        };
        let policy = &self.settings.password_reset;
        let sent = self
            .cache
            .incr(&format!("reset-mail:{}", email.normalized()), policy.rate_window)
            .await?;
        if sent > policy.max_per_window {
            tracing::info!("password reset e-mail limit reached for an address; nothing sent");
            return Ok(());
        }
        let hash = random_token(32);
        let now = self.clock.unix_now();
        self.password_resets
            .insert_reset(
                user.id,
                &self.secrets.digest(RESET, &hash),
                now + policy.ttl.as_secs() as i64,
                now,
            )
            .await?;
        let link = format!(
            "{}/password/recover?hash={hash}",
            policy.public_url.trim_end_matches('/')
        );
        self.notifier
            .send(
                Template::PasswordReset,
                DeliveryChannel::Email,
                &user.email,
                json!({ "link": link }),
            )
            .await?;
        Ok(())
    }

    /// Sets a new password with a reset hash, then ends every session of the user on every
    /// instance. A weak password leaves the hash usable.
    pub async fn recover_password(&self, hash: &str, password: String) -> Result<(), AuthError> {
        let digest = self.secrets.digest(RESET, hash);
        let now = self.clock.unix_now();
        let user_id = self
            .password_resets
            .pending_reset_user(&digest, now)
            .await?
            .ok_or(AuthError::InvalidHash)?;
        let user = self.users.user_by_id(user_id).await?.ok_or(AuthError::InvalidHash)?;
        check_password(&password, &[&user.name, &user.email])?;
        let password_hash = self.hasher.hash(password).await?;
        let user_id = self
            .password_resets
            .complete_reset(&digest, &password_hash, self.clock.unix_now())
            .await?
            .ok_or(AuthError::InvalidHash)?;
        self.end_sessions(user_id, None).await
    }

    /// Changes the caller's password after checking the current one; the caller's other
    /// sessions end, this one stays.
    pub async fn change_password(
        &self,
        caller: &Claims,
        current: String,
        new: String,
        client: IpAddr,
    ) -> Result<(), AuthError> {
        if current.is_empty() || current.chars().count() > MAX_PASSWORD_LEN {
            return Err(AuthError::invalid(
                "currentPassword",
                format!("must be 1 to {MAX_PASSWORD_LEN} characters"),
            ));
        }
        let user = self.me(caller).await?;
        check_password(&new, &[&user.name, &user.email])?;
        let account = user.id.to_string();
        let who = Attempter {
            account: Some(&account),
            client,
        };
        let verified = self.hasher.verify(current, Some(user.password_hash.clone()));
        let current_matches = async { verified.await?.then_some(()).ok_or(AuthError::InvalidCredentials) };
        self.throttle
            .attempt(Action::PasswordChange, who, current_matches)
            .await?;
        let password_hash = self.hasher.hash(new).await?;
        self.users.set_password_hash(user.id, &password_hash).await?;
        self.end_sessions(user.id, Some(caller.sid)).await
    }
}
