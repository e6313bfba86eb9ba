//! The OpenID Connect provider: the authorization endpoint's decisions (`authorize.rs`),
//! the token endpoint's grants and userinfo (`token.rs`), and the discovery document.

pub mod authorize;
pub mod claims;
pub mod logout;
pub mod revocation;
pub mod token;

use serde_json::json;

use crate::domain::oauth::SCOPES;
use crate::domain::oidc::OAuthError;
use crate::domain::redirect_uri::normalise_uri;
use crate::domain::AuthError;
use crate::ports::ClientStore;

/// The API a `resource` parameter names (RFC 8707 §2), as registered: `None` when the
/// request names none; `invalid_target` when it is not a registered API's URI.
pub(crate) async fn target(clients: &dyn ClientStore, resource: Option<&str>) -> Result<Option<String>, OAuthError> {
    let Some(uri) = resource else {
        return Ok(None);
    };
    let invalid = || OAuthError::new("invalid_target", "the resource is not an API registered here");
    let normalised = normalise_uri(uri).ok_or_else(invalid)?;
    match clients.client_by_resource(&normalised).await {
        Ok(Some(api)) => Ok(api.resource),
        Ok(None) => Err(invalid()),
        Err(err) => Err(OAuthError::from(AuthError::from(err))),
    }
}

/// The provider's identity: its issuer (`AUTH_PUBLIC_URL`), from which every endpoint's
/// address follows.
#[derive(Debug, Clone)]
pub struct Issuer(String);

impl Issuer {
    pub fn new(public_url: &str) -> Self {
        Self(public_url.trim_end_matches('/').to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The OpenID Connect Discovery 1.0 document: only what is built is announced.
    pub fn discovery(&self) -> serde_json::Value {
        let at = |path: &str| format!("{}{path}", self.0);
        json!({
            "issuer": self.0,
            "authorization_endpoint": at("/oauth2/authorize"),
            "token_endpoint": at("/oauth2/token"),
            "userinfo_endpoint": at("/oauth2/userinfo"),
            "revocation_endpoint": at("/oauth2/revoke"),
            "end_session_endpoint": at("/oauth2/logout"),
            "introspection_endpoint": at("/oauth2/introspect"),
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "jwks_uri": at("/.well-known/jwks.json"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "EdDSA"],
            "scopes_supported": SCOPES,
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "code_challenge_methods_supported": ["S256"],
            "prompt_values_supported": ["none", "login", "consent"],
            "claims_supported": [
                "iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "nonce", "amr", "acr", "at_hash", "sid",
                "name", "email", "email_verified", "phone_number", "phone_number_verified", "organizations",
            ],
            "claims_parameter_supported": false,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "authorization_response_iss_parameter_supported": true,
        })
    }
}
