//! The deployment's data key and what it protects: one-time codes and reset hashes are kept
//! only as keyed digests (HMAC-SHA256), and secrets that must be read back (TOTP seeds,
//! queued messages that carry a code) are encrypted with AES-256-GCM.
//!
//! Both keys derive from one 32-byte data key, generated under `./data/` on the embedded
//! default; every instance of a deployment must use the same file.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, OsRng as AeadRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use secrecy::SecretSlice;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use crate::ports::DataKey;

type HmacSha256 = Hmac<Sha256>;

/// Keys derived from the data key.
#[derive(Clone)]
pub struct Secrets {
    digest_key: [u8; 32],
    cipher: Aes256Gcm,
}

impl Secrets {
    /// Loads the hex data key at `path`, generating one (mode 0600) if missing.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        if !path.exists() {
            let mut key = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut key);
            super::write_private(path, &hex(&key))?;
            tracing::info!(path = %path.display(), "data key ready");
        }
        let text = std::fs::read_to_string(path)?;
        let bytes = unhex(text.trim())
            .filter(|b| b.len() == 32)
            .ok_or_else(|| anyhow::anyhow!("AUTH_DATA_KEY_FILE must hold 64 hex characters"))?;
        Ok(Self::from_key(&bytes))
    }

    pub fn from_key(key: &[u8]) -> Self {
        let derive = |label: &str| -> [u8; 32] {
            let mut hasher = Sha256::new();
            hasher.update(label.as_bytes());
            hasher.update(key);
            hasher.finalize().into()
        };
        let encryption_key = derive("authd encryption v1");
        Self {
            digest_key: derive("authd digest v1"),
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&encryption_key)),
        }
    }
}

impl DataKey for Secrets {
    /// The keyed digest of `secret` for `purpose` (purposes never share digests).
    fn digest(&self, purpose: &str, secret: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.digest_key).expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(secret.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// Whether `secret` matches a stored digest, in constant time.
    fn matches(&self, purpose: &str, secret: &str, stored_digest: &str) -> bool {
        self.digest(purpose, secret)
            .as_bytes()
            .ct_eq(stored_digest.as_bytes())
            .into()
    }

    /// Encrypts to base64 of nonce || ciphertext.
    fn seal(&self, plaintext: &[u8]) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut AeadRng);
        let ciphertext = self
            .cipher
            .encrypt(&nonce, plaintext)
            .expect("AES-GCM encryption cannot fail");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        STANDARD.encode(sealed)
    }

    /// Decrypts what [`DataKey::seal`] made; `None` when it was tampered with or made
    /// with another key.
    fn open(&self, sealed: &str) -> Option<SecretSlice<u8>> {
        let bytes = STANDARD.decode(sealed).ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .ok()
            .map(SecretSlice::from)
    }
}

/// A fresh 6-digit code from the OS's CSPRNG.
pub fn six_digit_code() -> String {
    use rand::Rng as _;
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000))
}

/// `bytes` random bytes from the OS, URL-safe base64 (for hashes handed to clients).
pub fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buffer);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    #[test]
    fn digests_depend_on_key_purpose_and_secret() {
        let (a, b) = (Secrets::from_key(&[1; 32]), Secrets::from_key(&[2; 32]));
        assert_eq!(a.digest("code", "123456"), a.digest("code", "123456"));
        assert_ne!(a.digest("code", "123456"), b.digest("code", "123456"));
        assert_ne!(a.digest("code", "123456"), a.digest("reset", "123456"));
        assert!(a.matches("code", "123456", &a.digest("code", "123456")));
        assert!(!a.matches("code", "123457", &a.digest("code", "123456")));
    }

    #[test]
    fn encryption_round_trips_and_detects_tampering() {
        let secrets = Secrets::from_key(&[7; 32]);
        let sealed = secrets.seal(b"JBSWY3DPEHPK3PXP");
        assert_ne!(sealed, secrets.seal(b"JBSWY3DPEHPK3PXP"), "fresh nonce each time");
        assert_eq!(secrets.open(&sealed).unwrap().expose_secret(), b"JBSWY3DPEHPK3PXP");
        assert!(Secrets::from_key(&[8; 32]).open(&sealed).is_none());
        let mut bytes = STANDARD.decode(&sealed).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        assert!(secrets.open(&STANDARD.encode(bytes)).is_none());
    }

    proptest::proptest! {
        #[test]
        fn a_code_matches_its_own_digest_and_no_other_code(
            key in proptest::array::uniform32(proptest::num::u8::ANY),
            code in "[0-9]{6}",
            other in "[0-9]{6}",
            purpose in "[a-z-]{1,16}",
        ) {
            let secrets = Secrets::from_key(&key);
            let digest = secrets.digest(&purpose, &code);
            proptest::prop_assert!(secrets.matches(&purpose, &code, &digest));
            proptest::prop_assert_eq!(secrets.matches(&purpose, &other, &digest), other == code);
            let other_purpose = format!("{purpose}x");
            proptest::prop_assert!(!secrets.matches(&other_purpose, &code, &digest));
            proptest::prop_assert!(!secrets.matches(&purpose, &code, &digest[..digest.len() - 1]));
        }

        #[test]
        fn only_the_exact_digest_matches(secret in ".{0,40}", stored in ".{0,80}") {
            let secrets = Secrets::from_key(&[3; 32]);
            let real = secrets.digest("code", &secret);
            proptest::prop_assert_eq!(secrets.matches("code", &secret, &stored), stored == real);
        }
    }

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..100 {
            let code = six_digit_code();
            assert_eq!(code.len(), 6);
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
        assert_eq!(random_token(32).len(), 43);
    }
}
