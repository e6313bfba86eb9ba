//! OAuth 2.0 / OpenID Connect clients: what an application registered with authd may do.
//! The rules here decide which redirect URIs a client may register (exact strings; `http`
//! only on loopback), which grants and scopes it may use, and which of the scopes a request
//! asks for it gets.

use std::net::IpAddr;

use url::Url;

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
    /// [`normalise_uri`]); the answer is the registered string, the only one redirected to.
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
    pub fn grantable_scopes(&self, requested: &str) -> Vec<&'static str> {
        let asked: Vec<&str> = requested.split(' ').filter(|s| !s.is_empty()).collect();
        SCOPES
            .iter()
            .copied()
            .filter(|scope| asked.contains(scope) && self.scopes.iter().any(|s| s == scope))
            .filter(|scope| *scope != API_SCOPE || self.first_party)
            .collect()
    }
}

/// The registered URI of `list` that `uri` names once both are normalised.
fn registered<'a>(list: &'a [String], uri: &str) -> Option<&'a str> {
    let wanted = normalise_uri(uri)?;
    list.iter()
        .find(|candidate| normalise_uri(candidate).as_deref() == Some(wanted.as_str()))
        .map(String::as_str)
}

/// The one form a URI is compared in: parsed and serialised again (scheme and host in
/// lower case, default port dropped, percent-encoding made uniform), so two spellings of
/// one address match and nothing but a parsable URI matches anything.
pub fn normalise_uri(uri: &str) -> Option<String> {
    if uri.chars().any(char::is_control) {
        return None;
    }
    Url::parse(uri).ok().map(String::from)
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

fn checked_uris(field: &'static str, uris: Vec<String>) -> Result<Vec<String>, AuthError> {
    if uris.len() > MAX_REDIRECT_URIS {
        return Err(AuthError::invalid(field, format!("at most {MAX_REDIRECT_URIS}")));
    }
    let mut kept: Vec<String> = Vec::with_capacity(uris.len());
    for uri in uris {
        check_redirect_uri(field, &uri)?;
        let uri = normalise_uri(&uri).ok_or_else(|| AuthError::invalid(field, "each must be an absolute URI"))?;
        if !kept.contains(&uri) {
            kept.push(uri);
        }
    }
    Ok(kept)
}

/// An API's URI (RFC 8707 §2): absolute, https (http on loopback), no fragment, no
/// userinfo; kept in its normalised form.
fn check_resource(uri: &str) -> Result<String, AuthError> {
    let bad = |reason: &str| AuthError::invalid("resource", reason.to_owned());
    check_redirect_uri("resource", uri)?;
    let url = Url::parse(uri).map_err(|_| bad("an absolute URI"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(bad("an https URI (http on loopback)"));
    }
    normalise_uri(uri).ok_or_else(|| bad("an absolute URI"))
}

/// A redirect URI must be absolute, without a fragment (RFC 6749 §3.1.2), and `https`,
/// except `http` on a loopback host (RFC 8252 §7.3) or a native app's own scheme
/// (`com.example.app:/callback`, RFC 8252 §7.1).
pub fn check_redirect_uri(field: &'static str, uri: &str) -> Result<(), AuthError> {
    if uri.len() > MAX_REDIRECT_URI_LEN {
        return Err(AuthError::invalid(field, "a URI is too long"));
    }
    if uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(AuthError::invalid(field, "a URI has no spaces or control characters"));
    }
    let parsed = Url::parse(uri).map_err(|_| AuthError::invalid(field, "each must be an absolute URI"))?;
    if parsed.fragment().is_some() {
        return Err(AuthError::invalid(field, "a redirect URI has no fragment"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(AuthError::invalid(field, "a URI carries no user name or password"));
    }
    if uri.contains('*') {
        return Err(AuthError::invalid(field, "no wildcards: register each URI exactly"));
    }
    let hierarchical = uri
        .get(..parsed.scheme().len() + 3)
        .is_some_and(|start| start.eq_ignore_ascii_case(&format!("{}://", parsed.scheme())));
    if matches!(parsed.scheme(), "http" | "https") && !hierarchical {
        return Err(AuthError::invalid(field, "write the URI in full: scheme://host/path"));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&parsed) => Ok(()),
        "http" => Err(AuthError::invalid(
            field,
            "http only for loopback (127.0.0.1, [::1], localhost)",
        )),
        "javascript" | "data" | "file" | "vbscript" => Err(AuthError::invalid(field, "that scheme is not allowed")),
        scheme if scheme.contains('.') => Ok(()),
        _ => Err(AuthError::invalid(
            field,
            "use https, http on loopback, or a reverse-domain scheme of your app",
        )),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
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
    fn redirect_uris_are_https_loopback_http_or_an_app_scheme() {
        for good in [
            "https://app.example.com/cb",
            "http://127.0.0.1:3000/cb",
            "http://localhost/cb",
            "http://[::1]:8000/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(check_redirect_uri("redirectUris", good).is_ok(), "{good}");
        }
        for bad in [
            "http://app.example.com/cb",
            "https://app.example.com/cb#frag",
            "/relative",
            "javascript:alert(1)",
            "myapp:/cb",
            "https://*.example.com/cb",
            "https://user:pass@x.example/cb",
            "http:/127.0.0.1/cb",
            "https://a.example/cb\r\nSet-Cookie: x=1",
            "https://a.example/c b",
        ] {
            assert!(check_redirect_uri("redirectUris", bad).is_err(), "{bad}");
        }
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
            client.grantable_scopes("email  openid profile bogus"),
            vec!["openid", "email"]
        );
        assert!(client.redirects_to("https://a.example/cb"));
        assert!(!client.redirects_to("https://a.example/cb/"));
        assert_eq!(
            client.redirect_uri_for("HTTPS://A.example:443/cb"),
            Some("https://a.example/cb")
        );
        assert!(!client.redirects_to("https://a.example/cb\n"));
        assert!(client.grantable_scopes("openid authd:api").len() == 1);
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

    #[test]
    fn an_api_registers_its_resource_uri_and_needs_no_grant() {
        let api = ClientRequest {
            name: "Orders API".into(),
            redirect_uris: vec![],
            resource: Some("https://API.example/".into()),
            ..ClientRequest::default()
        };
        let valid = api.clone().validate().unwrap();
        assert_eq!(valid.resource.as_deref(), Some("https://api.example/"));
        assert!(valid.grants.is_empty());
        for bad in ["https://api.example/#x", "ftp://api.example", "http://api.example"] {
            let wrong = ClientRequest {
                resource: Some(bad.into()),
                ..api.clone()
            };
            assert!(wrong.validate().is_err(), "{bad}");
        }
        let public = ClientRequest { public: true, ..api };
        assert!(public.validate().is_err());
    }
}
