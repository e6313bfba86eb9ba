//! argon2id hashing and verification on a bounded blocking pool.
//!
//! Hashing is deliberately slow, so it never runs on the async workers: at most `workers`
//! hashes run at once on tokio's blocking threads, at most `queue` more wait, and anything
//! beyond that is refused at once with [`AuthError::Overloaded`] (503) instead of piling up.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use secrecy::{ExposeSecret as _, SecretString};
use tokio::sync::Semaphore;

use crate::domain::AuthError;
use crate::ports::PasswordHashing;

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashCost {
    /// OWASP's recommended argon2id minimum: 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Hashes and verifies passwords without blocking async workers.
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    /// Hashes running or waiting; its size is the admission limit.
    admission: Arc<Semaphore>,
    /// Hashes running; its size is the number of blocking threads used at once.
    running: Arc<Semaphore>,
    /// Verified against when the account does not exist, so that costs the same time.
    dummy_hash: Arc<str>,
}

impl PasswordHasher {
    pub fn new(cost: HashCost, workers: usize, queue: usize) -> anyhow::Result<Self> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy_hash = hash_with(&argon2, "authd dummy password for unknown accounts")?;
        let workers = workers.max(1);
        Ok(Self {
            argon2,
            admission: Arc::new(Semaphore::new(workers + queue)),
            running: Arc::new(Semaphore::new(workers)),
            dummy_hash: dummy_hash.into(),
        })
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, AuthError> {
        let _admitted = self
            .admission
            .clone()
            .try_acquire_owned()
            .map_err(|_| AuthError::Overloaded)?;
        let _running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| AuthError::Unavailable("password hasher"))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|_| AuthError::Unavailable("password hasher"))
    }
}

#[async_trait]
impl PasswordHashing for PasswordHasher {
    /// Produces a PHC string (salt and parameters included).
    async fn hash(&self, password: SecretString) -> Result<String, AuthError> {
        let argon2 = self.argon2.clone();
        self.run(move || {
            hash_with(&argon2, password.expose_secret()).map_err(|_| AuthError::Unavailable("password hasher"))
        })
        .await?
    }

    /// Checks `password` against `stored`, or against a dummy hash when there is no account,
    /// so both cases take the same time. Returns false in the dummy case.
    async fn verify(&self, password: SecretString, stored: Option<String>) -> Result<bool, AuthError> {
        let argon2 = self.argon2.clone();
        let dummy = self.dummy_hash.clone();
        self.run(move || {
            // An account without a password (made through an upstream provider) holds an
            // empty hash: it costs the same work as any other and never matches.
            let usable = stored.as_deref().filter(|phc| !phc.is_empty());
            let account_exists = usable.is_some();
            let phc = usable.unwrap_or(&dummy);
            let matches = PasswordHash::new(phc)
                .map(|parsed| {
                    argon2
                        .verify_password(password.expose_secret().as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false);
            account_exists && matches
        })
        .await
    }
}

fn hash_with(argon2: &Argon2<'_>, password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("argon2 failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasher {
        let cost = HashCost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        PasswordHasher::new(cost, 1, 0).unwrap()
    }

    #[tokio::test]
    async fn verifies_only_the_right_password() {
        let hasher = cheap();
        let hash = hasher.hash("right horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(hasher.verify("right horse".into(), Some(hash.clone())).await.unwrap());
        assert!(!hasher.verify("wrong horse".into(), Some(hash)).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        let hasher = cheap();
        assert!(!hasher
            .verify("authd dummy password for unknown accounts".into(), None)
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn a_full_pool_refuses_at_once() {
        let hasher = cheap();
        let _held = hasher.admission.clone().try_acquire_owned().unwrap();
        assert!(matches!(hasher.hash("x".into()).await, Err(AuthError::Overloaded)));
    }
}
