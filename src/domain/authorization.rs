//! An authorization request (OpenID Connect Core §3.1.2.1) parsed once, at the boundary:
//! who asks and where the answer goes are kept as sent (an error may go back there only
//! once the client and its redirect URI check out), and everything else becomes types,
//! or the RFC 6749 error that the application is told.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::oidc::{OAuthError, MAX_PARAMETER_LEN};

/// An authorization request as parsed from its query or form. Kept (in a sign-in flow) as
/// its parameters and parsed again when read, so a stored request obeys the same rules as
/// one just received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Vec<(String, String)>", from = "Vec<(String, String)>")]
pub struct AuthorizationRequest {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    /// Returned unchanged with whatever answer goes back.
    pub state: Option<String>,
    /// The rest of the request, or why it cannot be granted.
    pub asks: Result<Asks, OAuthError>,
}

/// What a readable authorization request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asks {
    /// The scopes named, in the order sent, each once.
    pub scopes: Vec<String>,
    pub prompt: Prompt,
    /// Seconds since the sign-in beyond which the person must sign in again.
    pub max_age: Option<u32>,
    pub nonce: Option<String>,
    /// The S256 code challenge (RFC 7636); `plain` is refused.
    pub code_challenge: Option<String>,
    /// The API the tokens are for (RFC 8707).
    pub resource: Option<String>,
    /// Who the application thinks is signing in (an e-mail address): the sign-in form
    /// starts filled in with it, nothing more (Core §3.1.2.1).
    pub login_hint: Option<String>,
    /// The languages the person prefers, in order (Core §3.1.2.1), as sent.
    pub ui_locales: Option<String>,
}

/// The `prompt` values authd acts on (others are ignored, as Core §3.1.2.1 allows).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    /// Show nothing: answer at once or with an error.
    pub none: bool,
    /// Sign in again, whatever the browser's session.
    pub login: bool,
    /// Ask for consent again, even when given before.
    pub consent: bool,
}

impl Prompt {
    fn parse(value: Option<&str>) -> Self {
        let values: Vec<&str> = value.unwrap_or_default().split(' ').collect();
        Self {
            none: values.contains(&"none"),
            login: values.contains(&"login"),
            consent: values.contains(&"consent"),
        }
    }

    /// The values, space-separated, as a request names them.
    fn as_parameter(self) -> Option<String> {
        let values: Vec<&str> = [(self.none, "none"), (self.login, "login"), (self.consent, "consent")]
            .into_iter()
            .filter_map(|(set, name)| set.then_some(name))
            .collect();
        (!values.is_empty()).then(|| values.join(" "))
    }
}

impl AuthorizationRequest {
    /// Parses the request's parameters (each named once, already decoded).
    pub fn parse(parameters: &HashMap<String, String>) -> Self {
        let get = |name: &str| parameters.get(name).cloned();
        Self {
            client_id: get("client_id"),
            redirect_uri: get("redirect_uri"),
            state: get("state"),
            asks: Asks::parse(parameters),
        }
    }

    /// The same request without the prompts that were just satisfied: after the sign-in
    /// it asked for (`login`), or the consent it asked for (`consent`).
    pub fn satisfied(&self, login: bool, consent: bool) -> Self {
        let mut again = self.clone();
        if let Ok(asks) = &mut again.asks {
            asks.prompt.login &= !login;
            asks.prompt.consent &= !consent;
        }
        again
    }

    /// The request as query parameters, to come back to it after the sign-in (only a
    /// readable request is ever resumed; an unreadable one keeps just who asks and where).
    pub fn to_parameters(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        let mut put = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                pairs.push((name.to_owned(), value));
            }
        };
        put("client_id", self.client_id.clone());
        put("redirect_uri", self.redirect_uri.clone());
        put("state", self.state.clone());
        let Ok(asks) = &self.asks else {
            return pairs;
        };
        put("response_type", Some("code".to_owned()));
        put("scope", (!asks.scopes.is_empty()).then(|| asks.scopes.join(" ")));
        put("prompt", asks.prompt.as_parameter());
        put("max_age", asks.max_age.map(|age| age.to_string()));
        put("nonce", asks.nonce.clone());
        put("code_challenge", asks.code_challenge.clone());
        put(
            "code_challenge_method",
            asks.code_challenge.as_ref().map(|_| "S256".to_owned()),
        );
        put("resource", asks.resource.clone());
        put("login_hint", asks.login_hint.clone());
        put("ui_locales", asks.ui_locales.clone());
        pairs
    }
}

impl From<AuthorizationRequest> for Vec<(String, String)> {
    fn from(request: AuthorizationRequest) -> Self {
        request.to_parameters()
    }
}

impl From<Vec<(String, String)>> for AuthorizationRequest {
    fn from(parameters: Vec<(String, String)>) -> Self {
        Self::parse(&parameters.into_iter().collect())
    }
}

/// The scopes a `scope` parameter names (RFC 6749 §3.3: space-separated), in the order
/// sent, each once.
pub fn scope_list(value: &str) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for scope in value.split(' ').filter(|s| !s.is_empty()) {
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    }
    scopes
}

impl Asks {
    fn parse(parameters: &HashMap<String, String>) -> Result<Self, OAuthError> {
        let get = |name: &str| parameters.get(name).map(String::as_str);
        let too_long = ["state", "nonce", "code_challenge", "login_hint", "ui_locales"]
            .iter()
            .any(|name| get(name).is_some_and(|v| v.len() > MAX_PARAMETER_LEN));
        if too_long {
            return Err(OAuthError::invalid_request("a parameter is too long"));
        }
        if get("request").is_some() {
            return Err(OAuthError::new(
                "request_not_supported",
                "request objects are not supported",
            ));
        }
        if get("request_uri").is_some() {
            return Err(OAuthError::new(
                "request_uri_not_supported",
                "request_uri is not supported",
            ));
        }
        if get("response_mode").is_some_and(|mode| mode != "query") {
            return Err(OAuthError::invalid_request("response_mode: only query is supported"));
        }
        if get("response_type") != Some("code") {
            return Err(OAuthError::new(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
        let code_challenge = match (get("code_challenge"), get("code_challenge_method")) {
            (Some(challenge), Some("S256")) => Some(challenge.to_owned()),
            (Some(_), _) => return Err(OAuthError::invalid_request("code_challenge_method must be S256")),
            (None, _) => None,
        };
        let max_age = match get("max_age") {
            None => None,
            Some(age) => Some(
                age.parse::<u32>()
                    .map_err(|_| OAuthError::invalid_request("max_age must be a number of seconds"))?,
            ),
        };
        Ok(Self {
            scopes: scope_list(get("scope").unwrap_or_default()),
            prompt: Prompt::parse(get("prompt")),
            max_age,
            nonce: get("nonce").map(str::to_owned),
            code_challenge,
            resource: get("resource").map(str::to_owned),
            login_hint: get("login_hint").map(str::to_owned),
            ui_locales: get("ui_locales").map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> AuthorizationRequest {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
        AuthorizationRequest::parse(&pairs.into_iter().collect())
    }

    #[test]
    fn a_code_request_becomes_types() {
        let request = parse(
            "response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fa.example%2Fcb&state=s\
             &scope=openid+email+openid&prompt=login+consent&max_age=300&nonce=n\
             &code_challenge=abc&code_challenge_method=S256",
        );
        assert_eq!(request.client_id.as_deref(), Some("app"));
        assert_eq!(request.state.as_deref(), Some("s"));
        let asks = request.asks.unwrap();
        assert_eq!(asks.scopes, ["openid", "email"]);
        assert!(asks.prompt.login && asks.prompt.consent && !asks.prompt.none);
        assert_eq!(asks.max_age, Some(300));
        assert_eq!(asks.code_challenge.as_deref(), Some("abc"));
    }

    #[test]
    fn what_cannot_be_granted_is_the_error_the_application_hears() {
        let error = |query: &str| parse(query).asks.unwrap_err().code;
        assert_eq!(error("client_id=a"), "unsupported_response_type");
        assert_eq!(error("response_type=token"), "unsupported_response_type");
        assert_eq!(error("response_type=code&request=x"), "request_not_supported");
        assert_eq!(error("response_type=code&request_uri=x"), "request_uri_not_supported");
        assert_eq!(error("response_type=code&response_mode=form_post"), "invalid_request");
        assert_eq!(error("response_type=code&code_challenge=x"), "invalid_request");
        assert_eq!(
            error("response_type=code&code_challenge=x&code_challenge_method=plain"),
            "invalid_request"
        );
        assert_eq!(error("response_type=code&max_age=soon"), "invalid_request");
        let long = "x".repeat(MAX_PARAMETER_LEN + 1);
        assert_eq!(error(&format!("response_type=code&nonce={long}")), "invalid_request");
        let unreadable = parse("client_id=a&redirect_uri=b&state=c&response_type=token");
        assert_eq!(unreadable.state.as_deref(), Some("c"), "the state still goes back");
    }

    #[test]
    fn a_satisfied_prompt_is_not_asked_again_and_the_rest_round_trips() {
        let request = parse(
            "response_type=code&client_id=app&scope=openid&prompt=login+consent&nonce=n\
             &login_hint=ada%40example.com&ui_locales=de+en",
        );
        let again = request.satisfied(true, false);
        assert!(!again.asks.as_ref().unwrap().prompt.login);
        assert!(again.asks.as_ref().unwrap().prompt.consent);
        assert_eq!(
            again.asks.as_ref().unwrap().login_hint.as_deref(),
            Some("ada@example.com")
        );
        let pairs: HashMap<String, String> = again.to_parameters().into_iter().collect();
        assert_eq!(AuthorizationRequest::parse(&pairs), again);
    }
}
