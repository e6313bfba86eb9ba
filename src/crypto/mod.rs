//! Secrets work: password hashing on a bounded pool, token signing, the data key that
//! digests one-time codes and encrypts what must be read back, and fresh secrets (codes,
//! hashes, TOTP seeds) from the OS's CSPRNG. Each is the adapter of a port in
//! `ports::crypto`.

use std::path::Path;

use rand::Rng as _;
use secrecy::{SecretSlice, SecretString};

use crate::domain::mfa::TotpProvisioning;
use crate::domain::AuthError;
use crate::ports::OneTimeSecrets;

pub mod breached;
pub mod id_tokens;
pub mod jwt;
pub mod passkeys;
pub mod password;
pub mod secrets;
pub mod totp;
pub mod verified;

/// Rotates the key file at `path`: `check` must accept the current key, which moves to
/// `<path>.<unix seconds>.previous`; `fresh` makes the new one. Returns where the old went.
pub(crate) fn rotate_file(
    path: &Path,
    check: impl Fn(&str) -> anyhow::Result<()>,
    fresh: impl Fn() -> anyhow::Result<String>,
) -> anyhow::Result<std::path::PathBuf> {
    let current = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("no key at {}: {e}", path.display()))?;
    check(&current)?;
    let stamp = crate::ports::Clock::unix_now(&crate::ports::SystemClock);
    let mut previous = path.as_os_str().to_owned();
    previous.push(format!(".{stamp}.previous"));
    let previous = std::path::PathBuf::from(previous);
    write_private(&previous, &current)?;
    let pem = fresh()?;
    std::fs::remove_file(path)?;
    write_private(path, &pem)?;
    Ok(previous)
}

/// Writes the key with mode 0600 without ever exposing a half-written file, and without
/// clobbering a key another instance wrote first (the caller then reads that one).
pub(crate) fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let staging = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        std::io::Write::write_all(&mut options.open(&staging)?, contents.as_bytes())?;
    }
    let linked = std::fs::hard_link(&staging, path);
    std::fs::remove_file(&staging)?;
    match linked {
        Err(err) if err.kind() != std::io::ErrorKind::AlreadyExists => Err(err.into()),
        _ => Ok(()),
    }
}

/// Alphabet of recovery codes: no 0/O, 1/I/L look-alikes.
const RECOVERY_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// Fresh secrets from the OS's CSPRNG, and TOTP with totp-rs.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsSecrets;

impl OneTimeSecrets for OsSecrets {
    fn six_digit_code(&self) -> SecretString {
        secrets::six_digit_code().into()
    }

    fn random_token(&self, bytes: usize) -> SecretString {
        secrets::random_token(bytes).into()
    }

    /// 50 bits: two groups of five from a 31-letter alphabet.
    fn recovery_code(&self) -> SecretString {
        let mut rng = rand::rngs::OsRng;
        let mut pick = || RECOVERY_ALPHABET[rng.gen_range(0..RECOVERY_ALPHABET.len())] as char;
        let first: String = (0..5).map(|_| pick()).collect();
        let second: String = (0..5).map(|_| pick()).collect();
        format!("{first}-{second}").into()
    }

    fn totp_seed(&self) -> SecretSlice<u8> {
        totp::new_secret()
    }

    fn totp_provisioning(&self, seed: &[u8], issuer: &str, account: &str) -> Result<TotpProvisioning, AuthError> {
        totp::provisioning(seed, issuer, account).map_err(|_| AuthError::Unavailable("totp"))
    }

    fn totp_step(&self, seed: &[u8], code: &str, now: i64) -> Option<i64> {
        totp::matching_step(seed, code, now)
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    #[test]
    fn recovery_codes_use_the_unambiguous_alphabet() {
        for _ in 0..100 {
            let code = OsSecrets.recovery_code();
            let (first, second) = code.expose_secret().split_once('-').unwrap();
            assert_eq!((first.len(), second.len()), (5, 5));
            assert!(first
                .chars()
                .chain(second.chars())
                .all(|c| RECOVERY_ALPHABET.contains(&(c as u8))));
        }
    }
}
