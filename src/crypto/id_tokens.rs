//! ID tokens of the OpenID Connect provider: RS256 with an RSA key of their own (file-based
//! like the access-token key: generated when missing, rotated out to `.previous` files whose
//! public keys stay in the JWKS), or EdDSA with the access-token key.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts as _;
use rsa::RsaPrivateKey;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::jwt::TokenSigner;
use crate::domain::oauth::IdTokenAlg;
use crate::ports::IdTokenSigning;

/// Bits of a generated RSA key.
const RSA_BITS: usize = 2048;

/// An RSA public key as its JWKS entry.
fn rsa_jwk(key: &RsaPrivateKey) -> (String, serde_json::Value) {
    let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
    let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
    let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(format!("{n}.{e}"))[..12]);
    let jwk = json!({ "kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid, "n": n, "e": e });
    (kid, jwk)
}

fn parse_rsa(pem: &str) -> anyhow::Result<RsaPrivateKey> {
    let key = RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| anyhow::anyhow!("not an RSA PKCS#8 PEM key: {e}"))?;
    anyhow::ensure!(key.n().bits() >= 2048, "the RSA key has fewer than 2048 bits");
    Ok(key)
}

/// A new RSA key as PKCS#8 PEM.
fn fresh_rsa_pem() -> anyhow::Result<String> {
    let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, RSA_BITS)?;
    Ok(key.to_pkcs8_pem(LineEnding::LF)?.to_string())
}

/// Rotates the RSA key at `path` as [`super::jwt::rotate_key_file`] rotates the Ed25519 one.
pub fn rotate_rsa_key_file(path: &Path) -> anyhow::Result<PathBuf> {
    super::rotate_file(path, |pem| parse_rsa(pem).map(|_| ()), fresh_rsa_pem)
}

/// Signs ID tokens.
pub struct IdTokenSigner {
    rsa: EncodingKey,
    rsa_header: Header,
    /// The current RSA key's JWK first, then the previous keys'.
    rsa_jwks: Vec<serde_json::Value>,
    /// Each RSA key's public half, by `kid`.
    verifiers: Vec<(String, DecodingKey)>,
    eddsa: Arc<TokenSigner>,
}

impl IdTokenSigner {
    /// Loads the RSA key at `path` (generating it, mode 0600, when missing) and the
    /// previous keys, whose public halves stay in the JWKS.
    pub fn load_or_create(path: &Path, previous: &[PathBuf], eddsa: Arc<TokenSigner>) -> anyhow::Result<Self> {
        if !path.exists() {
            super::write_private(path, &fresh_rsa_pem()?)?;
            tracing::info!(path = %path.display(), "ID token signing key ready");
        }
        let read =
            |p: &Path| std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()));
        let pem = read(path)?;
        let key = parse_rsa(&pem)?;
        let (kid, jwk) = rsa_jwk(&key);
        let mut rsa_jwks = vec![jwk];
        for old in previous {
            let (old_kid, old_jwk) = rsa_jwk(&parse_rsa(&read(old)?)?);
            if old_kid != kid {
                rsa_jwks.push(old_jwk);
            }
        }
        let verifiers = rsa_jwks
            .iter()
            .map(|jwk| {
                let text = |name: &str| jwk[name].as_str().unwrap_or_default().to_owned();
                Ok((text("kid"), DecodingKey::from_rsa_components(&text("n"), &text("e"))?))
            })
            .collect::<anyhow::Result<_>>()?;
        let mut rsa_header = Header::new(Algorithm::RS256);
        rsa_header.kid = Some(kid);
        Ok(Self {
            rsa: EncodingKey::from_rsa_pem(pem.as_bytes())?,
            rsa_header,
            rsa_jwks,
            verifiers,
            eddsa,
        })
    }
}

impl IdTokenSigning for IdTokenSigner {
    fn sign_id_token(&self, claims: &serde_json::Value, alg: IdTokenAlg) -> String {
        match alg {
            IdTokenAlg::Rs256 => {
                jsonwebtoken::encode(&self.rsa_header, claims, &self.rsa).expect("RS256 signing cannot fail")
            }
            IdTokenAlg::EdDsa => self.eddsa.sign_json(claims),
        }
    }

    fn rsa_public_keys(&self) -> Vec<serde_json::Value> {
        self.rsa_jwks.clone()
    }

    fn verify_id_token(&self, token: &str) -> Option<serde_json::Value> {
        if token.len() > 8192 {
            return None;
        }
        let kid = jsonwebtoken::decode_header(token).ok()?.kid?;
        let (_, key) = self.verifiers.iter().find(|(k, _)| *k == kid)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims = std::collections::HashSet::new();
        jsonwebtoken::decode::<serde_json::Value>(token, key, &validation)
            .ok()
            .map(|data| data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../tests/fixtures/oidc-rsa.pem");

    fn signer(dir: &Path) -> IdTokenSigner {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join("rsa.pem");
        std::fs::write(&path, FIXTURE).unwrap();
        let eddsa = Arc::new(TokenSigner::load_or_create(&dir.join("ed.pem"), "authd").unwrap());
        IdTokenSigner::load_or_create(&path, &[], eddsa).unwrap()
    }

    #[test]
    fn an_rs256_id_token_verifies_with_its_published_key() {
        let dir = std::env::temp_dir().join(format!("authd-idt-{}", uuid::Uuid::new_v4().simple()));
        let signer = signer(&dir);
        let claims = json!({ "iss": "https://auth.example.com", "sub": "s", "aud": "c", "exp": 4102444800u64 });
        let token = signer.sign_id_token(&claims, IdTokenAlg::Rs256);
        let jwk = &signer.rsa_public_keys()[0];
        let key = DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&["c"]);
        let decoded = jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation).unwrap();
        assert_eq!(decoded.claims["sub"], "s");
        assert_eq!(decoded.header.kid.as_deref(), jwk["kid"].as_str());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_short_rsa_key_is_refused() {
        let small = RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
        let pem = small.to_pkcs8_pem(LineEnding::LF).unwrap();
        assert!(parse_rsa(&pem).is_err());
    }
}
