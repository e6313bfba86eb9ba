//! Passwordless sign-in: a discoverable passkey, user verified, is both factors. Throttled
//! like `POST /login`, per the account the passkey claims and per client.

use std::sync::Arc;

use super::mfa::passkeys::Passkeys;
use super::sessions::Sessions;
use super::throttle::{Attempter, Throttle};
use super::verification::EmailVerification;
use super::Ports;
use crate::domain::credential::Credential;
use crate::domain::events::Origin;
use crate::domain::sign_in_method::SignInMethod;
use crate::domain::throttle::Action;
use crate::domain::AuthError;
use crate::ports::UserStore;

/// Signs in with a passkey alone.
pub struct PasskeyLogin {
    users: Arc<dyn UserStore>,
    passkeys: Arc<Passkeys>,
    throttle: Throttle,
    sessions: Arc<Sessions>,
    verification: Arc<EmailVerification>,
}

impl PasskeyLogin {
    pub fn new(
        ports: &Ports,
        throttle: Throttle,
        passkeys: Arc<Passkeys>,
        sessions: Arc<Sessions>,
        verification: Arc<EmailVerification>,
    ) -> Self {
        Self {
            users: ports.users.clone(),
            passkeys,
            throttle,
            sessions,
            verification,
        }
    }

    /// A hash and request options with no credential listed: the browser offers the
    /// passkeys it holds for this site.
    pub async fn start(&self) -> Result<(String, serde_json::Value), AuthError> {
        self.passkeys.start_sign_in().await
    }

    /// Opens a session for the account whose passkey answered `hash`'s challenge.
    pub async fn finish(
        &self,
        hash: &str,
        credential: &serde_json::Value,
        origin: &Origin,
    ) -> Result<Credential, AuthError> {
        let account = self.passkeys.claimed_account(credential).map(|id| id.to_string());
        let who = Attempter {
            account: account.as_deref(),
            client: origin.ip,
        };
        let signed = self.passkeys.finish_sign_in(hash, credential, origin);
        let user_id = self.throttle.attempt(Action::Login, who, signed).await?;
        let user = self
            .users
            .user_by_id(user_id)
            .await?
            .ok_or(AuthError::InvalidCredentials)?;
        if self.verification.blocks_sign_in(&user) {
            self.verification.offer_link(&user).await;
            return Err(AuthError::EmailNotVerified);
        }
        self.sessions.open(&user, SignInMethod::Passkey, origin).await
    }
}
