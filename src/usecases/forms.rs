//! Anti-forgery tokens for the hosted pages' forms. A browser gets a random nonce in a
//! cookie; each form carries the keyed digest of that nonce. A cross-site page can make the
//! browser send the cookie, but it cannot read it nor compute the digest without the data
//! key, so a forged form fails (signed double-submit, OWASP's recommended variant).

use std::sync::Arc;

use secrecy::{ExposeSecret as _, SecretString};

use super::Ports;
use crate::ports::{DataKey, OneTimeSecrets};

/// The digest purpose, so a form token is never mistaken for any other digest.
const PURPOSE: &str = "form-token";

/// Mints browser nonces and checks the tokens forms send back.
pub struct FormTokens {
    data_key: Arc<dyn DataKey>,
    secrets: Arc<dyn OneTimeSecrets>,
}

impl FormTokens {
    pub fn new(ports: &Ports) -> Self {
        Self {
            data_key: ports.data_key.clone(),
            secrets: ports.secrets.clone(),
        }
    }

    /// A fresh nonce for a browser that has none.
    pub fn new_nonce(&self) -> SecretString {
        self.secrets.random_token(32)
    }

    /// The token the forms of the browser holding `nonce` carry.
    pub fn token_for(&self, nonce: &str) -> String {
        self.data_key.digest(PURPOSE, nonce)
    }

    /// Whether `token` belongs to `nonce`, compared in constant time.
    pub fn accepts(&self, nonce: &SecretString, token: &str) -> bool {
        !nonce.expose_secret().is_empty() && self.data_key.matches(PURPOSE, nonce.expose_secret(), token)
    }
}
