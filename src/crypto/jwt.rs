//! EdDSA (Ed25519) access tokens: the signing key, its JWKS entry, signing and verification.
//!
//! Expiry is not checked here but by the caller against its clock (see
//! [`Claims::ensure_unexpired`]), so time-dependent rules stay testable.

use std::collections::HashSet;
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::domain::token::Claims;
use crate::domain::AuthError;

/// Longest token accepted for parsing; real ones are about 400 bytes.
const MAX_TOKEN_LEN: usize = 2048;

/// Signs and verifies this deployment's tokens.
pub struct TokenSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    kid: String,
    /// Public key, base64url, as the JWKS `x` member.
    public_x: String,
    issuer: String,
}

impl TokenSigner {
    /// Loads the PKCS#8 PEM key at `path`, generating and saving one (mode 0600) if missing.
    pub fn load_or_create(path: &Path, issuer: &str) -> anyhow::Result<Self> {
        let pem = if path.exists() {
            std::fs::read_to_string(path)?
        } else {
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            let pem = key
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| anyhow::anyhow!("cannot encode key: {e}"))?;
            super::write_private(path, &pem)?;
            tracing::info!(path = %path.display(), "token signing key ready");
            std::fs::read_to_string(path)?
        };
        Self::from_pem(&pem, issuer)
    }

    pub fn from_pem(pem: &str, issuer: &str) -> anyhow::Result<Self> {
        let key = SigningKey::from_pkcs8_pem(pem)
            .map_err(|e| anyhow::anyhow!("AUTH_JWT_KEY_FILE is not an Ed25519 PKCS#8 PEM key: {e}"))?;
        let public = key.verifying_key().to_bytes();
        let public_x = URL_SAFE_NO_PAD.encode(public);
        let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(public)[..12]);
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::new();
        validation.set_issuer(&[issuer]);
        Ok(Self {
            encoding: EncodingKey::from_ed_pem(pem.as_bytes())?,
            decoding: DecodingKey::from_ed_components(&public_x)?,
            validation,
            kid,
            public_x,
            issuer: issuer.to_owned(),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Signs claims; Ed25519 is deterministic, so the same claims give the same token.
    pub fn sign(&self, claims: &Claims) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("signing with a loaded Ed25519 key cannot fail")
    }

    /// Checks signature, algorithm, key id and issuer; returns the claims.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::InvalidToken);
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| AuthError::InvalidToken)?;
        if data.header.kid.as_deref() != Some(self.kid.as_str()) {
            return Err(AuthError::InvalidToken);
        }
        Ok(data.claims)
    }

    /// The JSON Web Key Set other services verify tokens with.
    pub fn jwks(&self) -> serde_json::Value {
        json!({
            "keys": [{
                "kty": "OKP",
                "crv": "Ed25519",
                "alg": "EdDSA",
                "use": "sig",
                "kid": self.kid,
                "x": self.public_x,
            }]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn signer() -> TokenSigner {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        TokenSigner::from_pem(&key.to_pkcs8_pem(LineEnding::LF).unwrap(), "authd-test").unwrap()
    }

    fn claims() -> Claims {
        Claims {
            sub: Uuid::new_v4(),
            sid: Uuid::new_v4(),
            jti: Uuid::new_v4(),
            iat: 1_000,
            exp: 4_600,
            iss: "authd-test".into(),
        }
    }

    #[test]
    fn a_signed_token_verifies_and_is_deterministic() {
        let signer = signer();
        let claims = claims();
        let token = signer.sign(&claims);
        assert_eq!(token, signer.sign(&claims));
        assert_eq!(signer.verify(&token).unwrap(), claims);
    }

    #[test]
    fn tokens_of_another_key_or_issuer_or_tampered_are_rejected() {
        let (a, b) = (signer(), signer());
        let token = a.sign(&claims());
        assert!(b.verify(&token).is_err());
        let mut foreign = claims();
        foreign.iss = "someone-else".into();
        assert!(a.verify(&a.sign(&foreign)).is_err());
        let mut tampered = token.clone();
        tampered.replace_range(token.len() - 3.., "AAA");
        assert!(a.verify(&tampered).is_err());
        assert!(a.verify("not.a.jwt").is_err());
    }

    #[test]
    fn the_key_file_is_created_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("authd-key-{}", Uuid::new_v4()));
        let path = dir.join("key.pem");
        let first = TokenSigner::load_or_create(&path, "i").unwrap();
        let second = TokenSigner::load_or_create(&path, "i").unwrap();
        assert_eq!(first.jwks(), second.jwks());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
