//! EdDSA (Ed25519) access tokens: the signing key, its JWKS entry, signing and verification.
//!
//! Expiry is not checked here but by the caller against its clock (see
//! [`Claims::ensure_unexpired`]), so time-dependent rules stay testable.

use std::collections::HashSet;
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signer as _, SigningKey};
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::verified::VerifiedTokens;
use crate::domain::token::{Claims, Issuers};
use crate::domain::AuthError;
use crate::ports::TokenSigning;

/// Longest token accepted for parsing; real ones are about 400 bytes.
const MAX_TOKEN_LEN: usize = 2048;

/// A public key that verifies tokens, with its JWKS identity.
struct Verifier {
    kid: String,
    /// Public key, base64url, as the JWKS `x` member.
    public_x: String,
    key: DecodingKey,
}

impl Verifier {
    fn of(signing: &SigningKey) -> anyhow::Result<Self> {
        let public = signing.verifying_key().to_bytes();
        let public_x = URL_SAFE_NO_PAD.encode(public);
        Ok(Self {
            kid: URL_SAFE_NO_PAD.encode(&Sha256::digest(public)[..12]),
            key: DecodingKey::from_ed_components(&public_x)?,
            public_x,
        })
    }
}

/// Signs this deployment's tokens with the current key and verifies them with the current
/// or a previous key (so tokens signed before a key rotation stay valid until they expire).
pub struct TokenSigner {
    /// The current key, parsed once: jsonwebtoken's `encode` would re-derive the key pair
    /// from its PKCS#8 bytes for every token, doubling the cost of signing.
    signing: SigningKey,
    /// The JOSE header of native tokens (`typ: JWT`), base64url-encoded once.
    encoded_header: String,
    /// The JOSE header of access tokens issued to a client (`typ: at+jwt`, RFC 9068 §2.1).
    encoded_access_header: String,
    /// The current key first, then previous ones.
    verifiers: Vec<Verifier>,
    validation: Validation,
    issuers: Issuers,
    verified: VerifiedTokens,
}

/// Rotates the key at `path`: the current key moves to `<path>.<unix seconds>.previous`
/// and a new one takes its place; returns where the old one went.
pub fn rotate_key_file(path: &Path) -> anyhow::Result<std::path::PathBuf> {
    super::rotate_file(path, |pem| parse_key(pem).map(|_| ()), fresh_pem)
}

/// A new Ed25519 key as PKCS#8 PEM.
fn fresh_pem() -> anyhow::Result<String> {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("cannot encode key: {e}"))?;
    Ok(pem.to_string())
}

impl TokenSigner {
    /// Loads the PKCS#8 PEM key at `path`, generating and saving one (mode 0600) if missing.
    /// `issuer` signs every token until [`TokenSigner::with_oauth_issuer`] names another for
    /// the tokens of OpenID Connect clients.
    pub fn load_or_create(path: &Path, issuer: &str) -> anyhow::Result<Self> {
        let pem = if path.exists() {
            std::fs::read_to_string(path)?
        } else {
            super::write_private(path, &fresh_pem()?)?;
            tracing::info!(path = %path.display(), "token signing key ready");
            std::fs::read_to_string(path)?
        };
        Self::from_pem(&pem, issuer)
    }

    pub fn from_pem(pem: &str, issuer: &str) -> anyhow::Result<Self> {
        let key = parse_key(pem)?;
        let verifier = Verifier::of(&key)?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(verifier.kid.clone());
        let encoded_header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?);
        header.typ = Some("at+jwt".into());
        let issuers = Issuers {
            native: issuer.to_owned(),
            oauth: issuer.to_owned(),
        };
        Ok(Self {
            signing: key,
            encoded_header,
            encoded_access_header: URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?),
            verifiers: vec![verifier],
            validation: validation_for(&issuers),
            issuers,
            verified: VerifiedTokens::default(),
        })
    }

    /// Signs the access tokens of OpenID Connect clients as `issuer` (discovery's issuer,
    /// RFC 9068 §2.2), keeping the native issuer for session tokens.
    pub fn with_oauth_issuer(mut self, issuer: &str) -> Self {
        self.issuers.oauth = issuer.to_owned();
        self.validation = validation_for(&self.issuers);
        self
    }

    /// Also accepts tokens signed by the key in `pem` (a key rotated out).
    pub fn with_previous_key(mut self, pem: &str) -> anyhow::Result<Self> {
        let verifier = Verifier::of(&parse_key(pem)?)?;
        if self.verifiers.iter().all(|v| v.kid != verifier.kid) {
            self.verifiers.push(verifier);
        }
        Ok(self)
    }

    pub fn issuers(&self) -> &Issuers {
        &self.issuers
    }

    /// Signs claims with the current key; Ed25519 is deterministic, so the same claims give
    /// the same token.
    /// The token is a JWS compact serialization (RFC 7515): header, claims and signature,
    /// each base64url-encoded. A token this instance signed is known good, so it joins the
    /// verified tokens: its first use (the next refresh of a chain, the first request after
    /// login) skips the signature check too.
    pub fn sign(&self, claims: &Claims) -> String {
        let header = match claims.client() {
            Some(_) => &self.encoded_access_header,
            None => &self.encoded_header,
        };
        let payload = serde_json::to_vec(claims).expect("claims always serialize");
        let token = self.compact(header, &payload);
        if claims.iss == self.issuers.of(claims.client()) {
            self.verified.remember(&token, claims);
        }
        token
    }

    /// Signs any JSON claims (an ID token) with the current key.
    pub fn sign_json(&self, claims: &serde_json::Value) -> String {
        let payload = serde_json::to_vec(claims).expect("JSON always serializes");
        self.compact(&self.encoded_header, &payload)
    }

    /// The compact JWS of `payload` under `header` (encoded) and this key.
    fn compact(&self, header: &str, payload: &[u8]) -> String {
        let mut token = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
        let signature = self.signing.sign(token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut token);
        token
    }

    /// Checks signature (by the key its `kid` names), algorithm and issuer; returns the claims.
    /// A token seen before is only looked up (see [`VerifiedTokens`]).
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::InvalidToken);
        }
        if let Some(claims) = self.verified.get(token) {
            return Ok(claims);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::InvalidToken)?;
        let kid = header.kid.ok_or(AuthError::InvalidToken)?;
        let verifier = self
            .verifiers
            .iter()
            .find(|v| v.kid == kid)
            .ok_or(AuthError::InvalidToken)?;
        let data = jsonwebtoken::decode::<Claims>(token, &verifier.key, &self.validation)
            .map_err(|_| AuthError::InvalidToken)?;
        self.verified.remember(token, &data.claims);
        Ok(data.claims)
    }

    /// The JSON Web Key Set other services verify tokens with: the current key and the
    /// previous ones still configured.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self
            .verifiers
            .iter()
            .map(|v| {
                json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "alg": "EdDSA",
                    "use": "sig",
                    "kid": v.kid,
                    "x": v.public_x,
                })
            })
            .collect();
        json!({ "keys": keys })
    }
}

/// Signature and algorithm checked by jsonwebtoken, and an issuer of this deployment's;
/// expiry is the caller's (against its clock).
fn validation_for(issuers: &Issuers) -> Validation {
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::new();
    validation.set_issuer(&[&issuers.native, &issuers.oauth]);
    validation
}

fn parse_key(pem: &str) -> anyhow::Result<SigningKey> {
    SigningKey::from_pkcs8_pem(pem).map_err(|e| anyhow::anyhow!("not an Ed25519 PKCS#8 PEM key: {e}"))
}

/// The port the use cases sign and verify through.
impl TokenSigning for TokenSigner {
    fn issuers(&self) -> &Issuers {
        TokenSigner::issuers(self)
    }

    fn sign(&self, claims: &Claims) -> secrecy::SecretString {
        TokenSigner::sign(self, claims).into()
    }

    fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        TokenSigner::verify(self, token)
    }

    fn jwks(&self) -> serde_json::Value {
        TokenSigner::jwks(self)
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
            aud: None,
            client_id: None,
            scope: None,
            token_use: None,
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
    fn a_token_signed_here_is_known_without_checking_it_again() {
        let key = SigningKey::generate(&mut rand::rngs::OsRng)
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap();
        let signer = TokenSigner::from_pem(&key, "authd-test").unwrap();
        let claims = claims();
        let token = signer.sign(&claims);
        assert_eq!(signer.verified.get(&token), Some(claims.clone()));
        let other_instance = TokenSigner::from_pem(&key, "authd-test").unwrap();
        assert_eq!(other_instance.verified.get(&token), None);
        assert_eq!(other_instance.verify(&token).unwrap(), claims, "checked by signature");
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
    fn a_clients_access_token_is_typed_at_jwt_and_issued_by_the_oauth_issuer() {
        let signer = signer().with_oauth_issuer("https://id.example");
        let mut access = claims();
        access.client_id = Some("app".into());
        access.aud = Some("app".into());
        access.iss = signer.issuers().of(access.client()).to_owned();
        let token = signer.sign(&access);
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(signer.verify(&token).unwrap().iss, "https://id.example");
        let native = signer.sign(&claims());
        assert_eq!(
            jsonwebtoken::decode_header(&native).unwrap().typ.as_deref(),
            Some("JWT")
        );
        assert_eq!(signer.verify(&native).unwrap().iss, "authd-test");
    }

    #[test]
    fn tokens_of_a_previous_key_verify_after_rotation() {
        let old_key = SigningKey::generate(&mut rand::rngs::OsRng);
        let old_pem = old_key.to_pkcs8_pem(LineEnding::LF).unwrap();
        let old = TokenSigner::from_pem(&old_pem, "authd-test").unwrap();
        let claims = claims();
        let old_token = old.sign(&claims);
        let current = signer().with_previous_key(&old_pem).unwrap();
        assert_eq!(current.verify(&old_token).unwrap(), claims);
        assert_eq!(current.jwks()["keys"].as_array().unwrap().len(), 2);
        let new_token = current.sign(&claims);
        assert_ne!(
            jsonwebtoken::decode_header(&new_token).unwrap().kid,
            jsonwebtoken::decode_header(&old_token).unwrap().kid
        );
        assert!(old.verify(&new_token).is_err());
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
