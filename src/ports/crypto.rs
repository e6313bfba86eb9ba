//! Cryptographic ports: what the use cases need hashed, signed, digested or sealed, without
//! knowing the algorithm. `crypto` implements them (argon2id, Ed25519, HMAC-SHA256 and
//! AES-256-GCM under the data key).

use async_trait::async_trait;
use secrecy::{SecretSlice, SecretString};

use crate::domain::mfa::TotpProvisioning;
use crate::domain::oauth::IdTokenAlg;
use crate::domain::token::{Claims, Issuers};
use crate::domain::AuthError;
use uuid::Uuid;

/// Password hashing on a bounded pool: too many at once is [`AuthError::Overloaded`].
#[async_trait]
pub trait PasswordHashing: Send + Sync {
    /// A PHC string for a new password.
    async fn hash(&self, password: SecretString) -> Result<String, AuthError>;
    /// Whether `password` matches `stored`; with no stored hash (unknown account) it
    /// spends the same work on a dummy hash and answers false.
    async fn verify(&self, password: SecretString, stored: Option<String>) -> Result<bool, AuthError>;
}

/// Whether a password is known from data breaches: an offline list, and optionally the
/// Pwned Passwords range API. A lookup that cannot be made answers `false` (it fails open,
/// logged and counted by the adapter): a breach list is a hint, not a gate worth an outage.
#[async_trait]
pub trait BreachedPasswords: Send + Sync {
    async fn is_breached(&self, password: &SecretString) -> bool;
}

/// A passkey just registered, as the verifier records it.
#[derive(Debug, Clone)]
pub struct NewPasskey {
    /// base64url.
    pub credential_id: String,
    /// The verifier's record (opaque to the core).
    pub passkey: String,
}

/// Why an assertion was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasskeyRefusal {
    /// Signature, challenge, origin, RP ID, flags or credential did not check out.
    Invalid,
    /// The sign counter went backwards: the authenticator may have been cloned.
    CounterRegressed,
}

/// The WebAuthn ceremonies (webauthn-rs in `crypto::passkeys`). Options go out and
/// responses come in as the WebAuthn Level 3 JSON forms; ceremony states and passkey
/// records are opaque strings the core stores where every instance can read them.
pub trait PasskeyCeremonies: Send + Sync {
    /// Creation options (`PublicKeyCredentialCreationOptionsJSON`) for a new passkey of
    /// the account, excluding the ones it holds, and the state to finish with.
    fn start_registration(
        &self,
        user_id: Uuid,
        user_name: &str,
        display_name: &str,
        held: &[String],
    ) -> Result<(serde_json::Value, String), AuthError>;
    /// Checks a `RegistrationResponseJSON` against its state.
    fn finish_registration(&self, response: &serde_json::Value, state: &str) -> Result<NewPasskey, AuthError>;
    /// Request options (`PublicKeyCredentialRequestOptionsJSON`) listing `passkeys`.
    fn start_authentication(&self, passkeys: &[String]) -> Result<(serde_json::Value, String), AuthError>;
    /// Request options with no credentials listed (discoverable credentials).
    fn start_discoverable(&self) -> Result<(serde_json::Value, String), AuthError>;
    /// The account (user handle, when the authenticator gave one) and the credential id an
    /// assertion claims, before checking it; `None` when it is no assertion at all.
    fn claimed_by(&self, response: &serde_json::Value) -> Option<(Option<Uuid>, String)>;
    /// Checks an assertion against its state and the passkey it claims; returns the
    /// passkey's record with its new sign counter.
    fn finish_authentication(
        &self,
        response: &serde_json::Value,
        state: &str,
        passkey: &str,
        discoverable: bool,
    ) -> Result<String, PasskeyRefusal>;
}

/// Signs and verifies this server's access tokens.
pub trait TokenSigning: Send + Sync {
    /// The `iss` of the tokens signed here: native session tokens and OAuth access tokens.
    fn issuers(&self) -> &Issuers;
    /// A signed token for `claims`.
    fn sign(&self, claims: &Claims) -> SecretString;
    /// The claims of a token signed by a current or previous key of this deployment
    /// (signature and `kid` only: expiry and revocation are the caller's rules).
    fn verify(&self, token: &str) -> Result<Claims, AuthError>;
    /// The public keys, as a JSON Web Key Set.
    fn jwks(&self) -> serde_json::Value;
}

/// Signs OpenID Connect ID tokens: RS256 with the deployment's RSA key (Discovery requires
/// it), EdDSA with the access-token key for clients that ask for it.
pub trait IdTokenSigning: Send + Sync {
    /// The compact JWS of `claims`, with the current key of `alg`.
    fn sign_id_token(&self, claims: &serde_json::Value, alg: IdTokenAlg) -> String;
    /// The public RSA keys (current first, then previous ones) as JWKs.
    fn rsa_public_keys(&self) -> Vec<serde_json::Value>;
    /// The claims of an RS256 ID token this deployment signed (any of its RSA keys),
    /// expired or not: a logout's `id_token_hint`. `None` when the signature fails.
    fn verify_id_token(&self, token: &str) -> Option<serde_json::Value>;
}

/// Digests and sealing under the deployment's data key. A digest is keyed and tagged with
/// a purpose, so a value of one kind never matches a digest of another.
pub trait DataKey: Send + Sync {
    /// The keyed digest of `secret` for `purpose`: what is stored instead of the secret.
    fn digest(&self, purpose: &str, secret: &str) -> String;
    /// Whether `secret` has this stored digest, compared in constant time.
    fn matches(&self, purpose: &str, secret: &str, stored_digest: &str) -> bool;
    /// Authenticated encryption of data that must be read back (TOTP seeds, queued messages).
    fn seal(&self, plaintext: &[u8]) -> String;
    /// The plaintext of [`DataKey::seal`]; `None` when it was not sealed with this key.
    fn open(&self, sealed: &str) -> Option<SecretSlice<u8>>;
}

/// Fresh secrets from the OS's CSPRNG, and the TOTP algorithm (RFC 6238).
pub trait OneTimeSecrets: Send + Sync {
    /// A 6-digit code for e-mail or SMS.
    fn six_digit_code(&self) -> SecretString;
    /// `bytes` random bytes, URL-safe base64: a hash handed to a client.
    fn random_token(&self, bytes: usize) -> SecretString;
    /// A recovery code like `k7m2p-9xq4t`.
    fn recovery_code(&self) -> SecretString;
    /// A new TOTP seed.
    fn totp_seed(&self) -> SecretSlice<u8>;
    /// What an authenticator app needs to add the seed.
    fn totp_provisioning(&self, seed: &[u8], issuer: &str, account: &str) -> Result<TotpProvisioning, AuthError>;
    /// The time step `code` is valid for at `now`, within one step of drift.
    fn totp_step(&self, seed: &[u8], code: &str, now: i64) -> Option<i64>;
}
