//! The authorization code flow's rules: what a code records, PKCE (S256 only), the errors
//! RFC 6749 names.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;
use uuid::Uuid;

use super::oauth::IdTokenAlg;
use super::sign_in_method::SignInMethod;
use super::AuthError;

/// How long an authorization code can be redeemed.
pub const CODE_TTL_SECS: i64 = 60;
/// Longest `state`, `nonce` or PKCE value accepted.
pub const MAX_PARAMETER_LEN: usize = 512;

/// An issued authorization code, kept by the keyed digest of the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    pub digest: String,
    pub client_id: String,
    pub user_id: Uuid,
    pub redirect_uri: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    pub nonce: Option<String>,
    /// The S256 code challenge, when the client sent one.
    pub code_challenge: Option<String>,
    /// When the user signed in (Unix seconds), for `auth_time`.
    pub auth_time: i64,
    /// How they signed in.
    pub method: SignInMethod,
    pub expires_at: i64,
    /// The API (registered resource, RFC 8707) the tokens are for; `None`: the client.
    pub resource: Option<String>,
}

/// What redeeming a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption {
    /// Unused and unexpired: it is used now.
    Fresh(Box<AuthorizationCode>),
    /// Used before: whatever its first redemption issued must be revoked.
    Reused { issued_session: Option<Uuid> },
    /// Unknown or expired.
    Unknown,
}

/// Whether `verifier` is the PKCE verifier of the S256 `challenge` (RFC 7636 §4.6),
/// compared in constant time. A verifier is 43 to 128 unreserved characters.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    well_formed && bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

/// `at_hash` (OpenID Connect Core §3.1.3.6) of an access token: the left half of its hash
/// under the ID token's algorithm, base64url (SHA-256 for RS256, SHA-512 for Ed25519).
pub fn at_hash(access_token: &str, alg: IdTokenAlg) -> String {
    match alg {
        IdTokenAlg::Rs256 => URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16]),
        IdTokenAlg::EdDsa => URL_SAFE_NO_PAD.encode(&sha2::Sha512::digest(access_token.as_bytes())[..32]),
    }
}

/// An error of the authorization or token endpoint, as RFC 6749 §4.1.2.1 and §5.2 name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
    /// `unsupported_grant_type`, `unsupported_response_type`, `invalid_scope`,
    /// `login_required`, `consent_required`, `access_denied`, `server_error`,
    /// `temporarily_unavailable`.
    pub code: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(code: &'static str, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new("invalid_grant", description)
    }
}

impl From<AuthError> for OAuthError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Validation { .. } => OAuthError::invalid_request(err.to_string()),
            AuthError::RateLimited { .. } | AuthError::Overloaded | AuthError::Unavailable(_) => {
                OAuthError::new("temporarily_unavailable", err.to_string())
            }
            AuthError::AccountDisabled | AuthError::InvalidToken | AuthError::NotFound(_) => {
                OAuthError::invalid_grant(err.to_string())
            }
            other => OAuthError::new("server_error", other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_example_verifier_matches_its_challenge() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
        assert!(!pkce_matches("short", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }

    #[test]
    fn at_hash_is_the_left_half_of_the_sha256() {
        // OpenID Connect Core's example: the access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y".
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", IdTokenAlg::Rs256),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
