//! The rules every new password meets, wherever it is set (sign-up, change, recovery, an
//! administrator made at start-up): the length and strength of
//! [`crate::domain::password_policy`], then the breached-password lists.

use std::sync::Arc;

use secrecy::{ExposeSecret as _, SecretString};

use super::Ports;
use crate::domain::password_policy::check_password;
use crate::domain::AuthError;
use crate::ports::BreachedPasswords;

/// Checks new passwords.
pub struct PasswordRules {
    breached: Arc<dyn BreachedPasswords>,
}

impl PasswordRules {
    pub fn new(ports: &Ports) -> Self {
        Self {
            breached: ports.breached.clone(),
        }
    }

    /// Accepts `password` as a new password for an account known by the `context` words
    /// (its name and e-mail), or says why not: `weak_password`, then `breached_password`.
    pub async fn check(&self, password: &SecretString, context: &[&str]) -> Result<(), AuthError> {
        check_password(password.expose_secret(), context)?;
        if self.breached.is_breached(password).await {
            return Err(AuthError::BreachedPassword);
        }
        Ok(())
    }
}
