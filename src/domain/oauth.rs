//! OAuth 2.0 / OpenID Connect clients: what an application registered with authd may do.
//! The rules here decide which redirect URIs a client may register (exact strings; `http`
//! only on loopback), which grants and scopes it may use, and which of the scopes a request
//! asks for it gets.

use url::Url;

use super::redirect_uri::{check_resource, checked_uris, registered};
use super::token::API_SCOPE;
use super::AuthError;

/// A grant type (RFC 6749 §1.3) a client may use at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grant {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl Grant {
    pub fn as_str(self) -> &'static str {
        match self {
            Grant::AuthorizationCode => "authorization_code",
            Grant::RefreshToken => "refresh_token",
            Grant::ClientCredentials => "client_credentials",
        }
    }

    pub fn parse(text: &str) -> Result<Self, AuthError> {
        match text {
            "authorization_code" => Ok(Grant::AuthorizationCode),
            "refresh_token" => Ok(Grant::RefreshToken),
            "client_credentials" => Ok(Grant::ClientCredentials),
            _ => Err(AuthError::invalid(
                "grants",
                "use authorization_code, refresh_token or client_credentials",
            )),
        }
    }
}

/// How an ID token is signed: RS256 unless the client asks for EdDSA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdTokenAlg {
    Rs256,
    EdDsa,
}

impl IdTokenAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            IdTokenAlg::Rs256 => "RS256",
            IdTokenAlg::EdDsa => "EdDSA",
        }
    }

    pub fn parse(text: &str) -> Result<Self, AuthError> {
        match text {
            "RS256" => Ok(IdTokenAlg::Rs256),
            "EdDSA" => Ok(IdTokenAlg::EdDsa),
            _ => Err(AuthError::invalid("idTokenSignedResponseAlg", "RS256 or EdDSA")),
        }
    }
}

/// Every scope authd knows, in the order discovery lists them. The last,
/// [`API_SCOPE`](super::token::API_SCOPE), is for first-party clients only and never
/// registered unless asked for.
pub const SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "phone",
    "offline_access",
    "organizations",
    API_SCOPE,
];

/// The scopes a registration gets when it names none: every scope but [`API_SCOPE`].
fn default_scopes() -> Vec<String> {
    SCOPES
        .iter()
        .filter(|s| **s != API_SCOPE)
        .map(|s| (*s).to_owned())
        .collect()
}

/// Longest client name, in characters.
pub const MAX_CLIENT_NAME: usize = 128;
/// Most redirect URIs (and, separately, post-logout redirect URIs) one client registers.
pub const MAX_REDIRECT_URIS: usize = 16;
/// Longest redirect URI.
pub const MAX_REDIRECT_URI_LEN: usize = 2048;

/// A registered client. Its secret is kept only as a digest; a public client has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub secret_digest: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// A client that cannot keep a secret (a single-page or mobile app): PKCE is required.
    pub public: bool,
    /// The operator's own application: no consent page.
    pub first_party: bool,
    pub scopes: Vec<String>,
    pub grants: Vec<Grant>,
    /// How its ID tokens are signed (OpenID Connect Registration's
    /// `id_token_signed_response_alg`).
    pub id_token_alg: IdTokenAlg,
    /// Unix seconds.
    pub created_at: i64,
    /// For an API registered as a resource (RFC 8707): the URI applications name in
    /// `resource=`; tokens issued for it carry it as `aud`, and this client's credentials
    /// introspect them.
    pub resource: Option<String>,
}

impl Client {
    /// The registered redirect URI `uri` names, compared in one normalised form (see
    /// [`normalise_uri`](super::redirect_uri::normalise_uri)); the answer is the registered string, the only one redirected to.
    pub fn redirect_uri_for(&self, uri: &str) -> Option<&str> {
        registered(&self.redirect_uris, uri)
    }

    /// Whether `uri` is one of the client's redirect URIs (see [`Client::redirect_uri_for`]).
    pub fn redirects_to(&self, uri: &str) -> bool {
        self.redirect_uri_for(uri).is_some()
    }

    /// The registered post-logout redirect URI `uri` names, in the same normalised form.
    pub fn post_logout_uri_for(&self, uri: &str) -> Option<&str> {
        registered(&self.post_logout_redirect_uris, uri)
    }

    /// Whether `uri` is one of the client's post-logout redirect URIs.
    pub fn returns_after_logout_to(&self, uri: &str) -> bool {
        self.post_logout_uri_for(uri).is_some()
    }

    /// The origins (scheme, host, port) of the redirect URIs, for CORS: the browser
    /// applications that may call the token, userinfo and revocation endpoints.
    pub fn web_origins(&self) -> impl Iterator<Item = String> + '_ {
        self.redirect_uris
            .iter()
            .chain(&self.post_logout_redirect_uris)
            .filter_map(|uri| Url::parse(uri).ok())
            .filter(|url| matches!(url.scheme(), "http" | "https"))
            .map(|url| url.origin().ascii_serialization())
    }

    pub fn may_use(&self, grant: Grant) -> bool {
        self.grants.contains(&grant)
    }

    /// The scopes of `requested` (space-separated) this client may have, in the order of
    /// [`SCOPES`]; unknown or unregistered ones are dropped, as RFC 6749 §3.3 allows.
    pub fn grantable_scopes(&self, asked: &[String]) -> Vec<&'static str> {
        SCOPES
            .iter()
            .copied()
            .filter(|scope| asked.iter().any(|a| a == scope) && self.scopes.iter().any(|s| s == scope))
            .filter(|scope| *scope != API_SCOPE || self.first_party)
            .collect()
    }
}

/// A registration as an operator asks for it, before the rules are applied.
#[derive(Debug, Clone, Default)]
pub struct ClientRequest {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub public: bool,
    pub first_party: bool,
    /// `None`: every scope.
    pub scopes: Option<Vec<String>>,
    /// `None`: `authorization_code` and `refresh_token`.
    pub grants: Option<Vec<String>>,
    /// `None`: RS256.
    pub id_token_alg: Option<String>,
    /// An API's URI (RFC 8707), for a client that stands for an API.
    pub resource: Option<String>,
}

/// A registration that passed the rules: everything of a [`Client`] but its id and secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidClient {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub public: bool,
    pub first_party: bool,
    pub scopes: Vec<String>,
    pub grants: Vec<Grant>,
    pub id_token_alg: IdTokenAlg,
    pub resource: Option<String>,
}

impl ClientRequest {
    /// Applies the registration rules.
    pub fn validate(self) -> Result<ValidClient, AuthError> {
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_CLIENT_NAME {
            return Err(AuthError::invalid("name", format!("1 to {MAX_CLIENT_NAME} characters")));
        }
        let resource = self.resource.as_deref().map(check_resource).transpose()?;
        let mut grants: Vec<Grant> = match self.grants {
            None if resource.is_some() => vec![],
            None => vec![Grant::AuthorizationCode, Grant::RefreshToken],
            Some(names) => names.iter().map(|g| Grant::parse(g)).collect::<Result<_, _>>()?,
        };
        grants.sort();
        grants.dedup();
        if grants.is_empty() && resource.is_none() {
            return Err(AuthError::invalid("grants", "name at least one grant"));
        }
        if resource.is_some() && self.public {
            return Err(AuthError::invalid(
                "resource",
                "an API introspects tokens with its secret, so it cannot be a public client",
            ));
        }
        if self.public && grants.contains(&Grant::ClientCredentials) {
            return Err(AuthError::invalid(
                "grants",
                "a public client has no secret, so it cannot use client_credentials",
            ));
        }
        let redirects = grants.contains(&Grant::AuthorizationCode);
        if redirects && self.redirect_uris.is_empty() {
            return Err(AuthError::invalid(
                "redirectUris",
                "the authorization_code grant needs a redirect URI",
            ));
        }
        let redirect_uris = checked_uris("redirectUris", self.redirect_uris)?;
        let post_logout_redirect_uris = checked_uris("postLogoutRedirectUris", self.post_logout_redirect_uris)?;
        let scopes: Vec<String> = match self.scopes {
            None => default_scopes(),
            Some(asked) => {
                if let Some(unknown) = asked.iter().find(|s| !SCOPES.contains(&s.as_str())) {
                    return Err(AuthError::invalid("scopes", format!("unknown scope {unknown:?}")));
                }
                SCOPES
                    .iter()
                    .filter(|s| asked.iter().any(|a| a == *s))
                    .map(|s| (*s).to_owned())
                    .collect()
            }
        };
        let id_token_alg = match self.id_token_alg.as_deref() {
            None => IdTokenAlg::Rs256,
            Some(text) => IdTokenAlg::parse(text)?,
        };
        if scopes.iter().any(|s| s == API_SCOPE) && !self.first_party {
            return Err(AuthError::invalid(
                "scopes",
                format!("{API_SCOPE} reaches the native API: first-party clients only"),
            ));
        }
        Ok(ValidClient {
            resource,
            id_token_alg,
            name,
            redirect_uris,
            post_logout_redirect_uris,
            public: self.public,
            first_party: self.first_party,
            scopes,
            grants,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> ClientRequest {
        ClientRequest {
            name: "Grafana".into(),
            redirect_uris: vec!["https://grafana.example.com/login/generic_oauth".into()],
            ..ClientRequest::default()
        }
    }

    #[test]
    fn a_plain_registration_gets_the_code_grants_and_every_scope() {
        let valid = request().validate().unwrap();
        assert_eq!(valid.grants, vec![Grant::AuthorizationCode, Grant::RefreshToken]);
        assert_eq!(valid.scopes.len(), SCOPES.len() - 1, "every scope but authd:api");
    }

    #[test]
    fn a_public_client_cannot_use_client_credentials() {
        let public = ClientRequest {
            public: true,
            grants: Some(vec!["client_credentials".into()]),
            ..request()
        };
        assert!(public.validate().is_err());
    }

    #[test]
    fn a_machine_client_needs_no_redirect_uri() {
        let machine = ClientRequest {
            redirect_uris: vec![],
            grants: Some(vec!["client_credentials".into()]),
            ..request()
        };
        assert_eq!(machine.validate().unwrap().grants, vec![Grant::ClientCredentials]);
        let code_without_redirect = ClientRequest {
            redirect_uris: vec![],
            ..request()
        };
        assert!(code_without_redirect.validate().is_err());
    }

    #[test]
    fn unknown_scopes_and_grants_are_refused_at_registration() {
        let scopes = ClientRequest {
            scopes: Some(vec!["openid".into(), "admin".into()]),
            ..request()
        };
        assert!(scopes.validate().is_err());
        let grants = ClientRequest {
            grants: Some(vec!["password".into()]),
            ..request()
        };
        assert!(grants.validate().is_err());
    }

    #[test]
    fn a_request_gets_only_the_scopes_the_client_registered() {
        let client = Client {
            id: "c".into(),
            name: "n".into(),
            secret_digest: None,
            redirect_uris: vec!["https://a.example/cb".into()],
            post_logout_redirect_uris: vec![],
            public: false,
            first_party: false,
            scopes: vec!["openid".into(), "email".into()],
            grants: vec![Grant::AuthorizationCode],
            id_token_alg: IdTokenAlg::Rs256,
            created_at: 0,
            resource: None,
        };
        assert_eq!(
            client.grantable_scopes(&crate::domain::authorization::scope_list("email  openid profile bogus")),
            vec!["openid", "email"]
        );
        assert!(client.redirects_to("https://a.example/cb"));
        assert!(!client.redirects_to("https://a.example/cb/"));
        assert_eq!(
            client.redirect_uri_for("HTTPS://A.example:443/cb"),
            Some("https://a.example/cb")
        );
        assert!(!client.redirects_to("https://a.example/cb\n"));
        assert!(
            client
                .grantable_scopes(&crate::domain::authorization::scope_list("openid authd:api"))
                .len()
                == 1
        );
    }

    #[test]
    fn the_api_scope_is_for_first_party_clients_and_never_a_default() {
        assert!(!request().validate().unwrap().scopes.iter().any(|s| s == API_SCOPE));
        let third_party = ClientRequest {
            scopes: Some(vec!["openid".into(), API_SCOPE.into()]),
            ..request()
        };
        assert!(third_party.clone().validate().is_err());
        let first_party = ClientRequest {
            first_party: true,
            ..third_party
        };
        assert!(first_party.validate().unwrap().scopes.contains(&API_SCOPE.to_owned()));
    }
}
