//! The authorization endpoint's decision for one request (OpenID Connect Core §3.1.2):
//! refuse on a page when nothing may go back to the client (unknown client, unregistered
//! redirect URI), send the browser to sign in (again), or redirect to the client with a
//! code or an RFC 6749 error.

use std::sync::Arc;

use secrecy::ExposeSecret as _;
use url::Url;

use super::{target, Issuer};
use crate::domain::oauth::{Client, Grant};
use crate::domain::oidc::{AuthorizationCode, OAuthError, CODE_TTL_SECS, MAX_PARAMETER_LEN};
use crate::domain::token::Claims;
use crate::domain::AuthError;
use crate::ports::{ClientStore, Clock, CodeStore, ConsentStore, DataKey, OneTimeSecrets, StoreError};
use crate::usecases::sessions::Sessions;
use crate::usecases::Ports;

/// The digest purpose of authorization codes.
pub(super) const CODE: &str = "oauth-code";

/// An authorization request's parameters, as sent.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeRequest {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    /// The API the tokens are for (RFC 8707).
    pub resource: Option<String>,
    /// Request objects (OIDC Core §6) are not supported: named only to refuse them.
    pub request: Option<String>,
    pub request_uri: Option<String>,
    /// Only `query` is supported (discovery says so); another mode is refused.
    pub response_mode: Option<String>,
}

/// What the endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Send the browser to the client: a code, or an error.
    Redirect(String),
    /// The user must sign in (again, when `force`), then come back to this request.
    SignIn { force: bool },
    /// Nothing may be sent to the client; the page says why.
    Refuse(String),
    /// A third-party client asks for scopes the user has not allowed it yet.
    Consent { client_name: String, scopes: Vec<String> },
    /// A store did not answer: nothing can be decided (never taken as "not signed in" or
    /// "no consent"); the page asks to try again (503).
    Unavailable,
}

/// What a code grants: the scopes, the API, and the sign-in it reports.
struct CodeGrant {
    scope: String,
    resource: Option<String>,
    method: String,
    auth_time: i64,
}

/// Decides authorization requests and issues codes.
pub struct Authorizations {
    clients: Arc<dyn ClientStore>,
    codes: Arc<dyn CodeStore>,
    data_key: Arc<dyn DataKey>,
    secrets: Arc<dyn OneTimeSecrets>,
    clock: Arc<dyn Clock>,
    consents: Arc<dyn ConsentStore>,
    sessions: Arc<Sessions>,
    issuer: Issuer,
}

impl Authorizations {
    pub fn new(ports: &Ports, sessions: Arc<Sessions>, issuer: Issuer) -> Self {
        Self {
            clients: ports.clients.clone(),
            codes: ports.codes.clone(),
            data_key: ports.data_key.clone(),
            secrets: ports.secrets.clone(),
            clock: ports.clock.clone(),
            consents: ports.consents.clone(),
            sessions,
            issuer,
        }
    }

    /// Decides `request` for a browser signed in as `browser` (or nobody).
    pub async fn authorize(&self, request: &AuthorizeRequest, browser: Option<&Claims>) -> Outcome {
        let client = match request.client_id.as_deref() {
            None => return Outcome::Refuse("The application did not say who it is (client_id).".into()),
            Some(id) => match self.clients.client(id).await {
                Ok(Some(client)) => client,
                Ok(None) => return Outcome::Refuse("This application is not registered here.".into()),
                Err(err) => {
                    tracing::warn!(%err, "authorize: clients unavailable");
                    return Outcome::Unavailable;
                }
            },
        };
        let Some(redirect_uri) = request
            .redirect_uri
            .as_deref()
            .and_then(|uri| client.redirect_uri_for(uri))
        else {
            return Outcome::Refuse("The application asked to return to an address it has not registered.".into());
        };
        let back = |result: Result<String, OAuthError>| match result {
            Ok(code) => Outcome::Redirect(self.redirect(redirect_uri, &[("code", &code)], request)),
            Err(err) => Outcome::Redirect(self.redirect(
                redirect_uri,
                &[("error", err.code), ("error_description", &err.description)],
                request,
            )),
        };
        let scope = match self.check(&client, request) {
            Ok(scope) => scope,
            Err(err) => return back(Err(err)),
        };
        let resource = match target(self.clients.as_ref(), request.resource.as_deref()).await {
            Ok(resource) => resource,
            Err(err) => return back(Err(err)),
        };
        let prompts: Vec<&str> = request.prompt.as_deref().unwrap_or_default().split(' ').collect();
        let sign_in = match browser {
            Some(claims) => match self.sessions.sign_in_of(claims.sid).await {
                Ok(sign_in) => sign_in.map(|s| (claims, s)),
                Err(err) => {
                    tracing::warn!(%err, "authorize: sessions unavailable");
                    return Outcome::Unavailable;
                }
            },
            None => None,
        };
        let Some((claims, (method, auth_time))) = sign_in else {
            return match prompts.contains(&"none") {
                true => back(Err(OAuthError::new("login_required", "no one is signed in"))),
                false => Outcome::SignIn { force: false },
            };
        };
        let max_age = request.max_age.as_deref().and_then(|age| age.parse::<i64>().ok());
        let too_old = max_age.is_some_and(|age| self.clock.unix_now() - auth_time > age);
        if prompts.contains(&"login") || too_old {
            return match prompts.contains(&"none") {
                true => back(Err(OAuthError::new("login_required", "a fresh sign-in is needed"))),
                false => Outcome::SignIn { force: true },
            };
        }
        let consented = match client.first_party || prompts.contains(&"consent") {
            true => false,
            false => match self.consented(claims, &client, &scope).await {
                Ok(consented) => consented,
                Err(err) => {
                    tracing::warn!(%err, "authorize: consents unavailable");
                    return Outcome::Unavailable;
                }
            },
        };
        if !client.first_party && !consented {
            return match prompts.contains(&"none") {
                true => back(Err(OAuthError::new("consent_required", "the user has not consented"))),
                false => Outcome::Consent {
                    client_name: client.name.clone(),
                    scopes: scope.split(' ').map(str::to_owned).collect(),
                },
            };
        }
        let grant = CodeGrant {
            scope,
            resource,
            method,
            auth_time,
        };
        back(self.issue_code(&client, claims, redirect_uri, grant, request).await)
    }

    /// Whether the user allowed `client` every scope of `scope` before.
    async fn consented(&self, claims: &Claims, client: &Client, scope: &str) -> Result<bool, StoreError> {
        Ok(match self.consents.consented_scope(claims.sub, &client.id).await? {
            Some(allowed) => {
                let allowed: Vec<&str> = allowed.split(' ').collect();
                scope.split(' ').all(|s| allowed.contains(&s))
            }
            None => false,
        })
    }

    /// The user's answer on the consent page for `request`: allowed, the consent is kept
    /// and the request goes on (to a code); denied, the client hears `access_denied`.
    pub async fn answer_consent(&self, request: &AuthorizeRequest, browser: Option<&Claims>, allow: bool) -> Outcome {
        let (Some(claims), Some(client_id)) = (browser, request.client_id.as_deref()) else {
            return self.authorize(request, browser).await;
        };
        let client = match self.clients.client(client_id).await {
            Ok(Some(client)) => client,
            Ok(None) => return self.authorize(request, browser).await,
            Err(err) => {
                tracing::warn!(%err, "consent: clients unavailable");
                return Outcome::Unavailable;
            }
        };
        let (Some(redirect_uri), Ok(scope)) = (
            request
                .redirect_uri
                .as_deref()
                .and_then(|uri| client.redirect_uri_for(uri)),
            self.check(&client, request),
        ) else {
            return self.authorize(request, browser).await;
        };
        if !allow {
            let denied = [
                ("error", "access_denied"),
                ("error_description", "the user did not allow it"),
            ];
            return Outcome::Redirect(self.redirect(redirect_uri, &denied, request));
        }
        let now = self.clock.unix_now();
        if let Err(err) = self.consents.grant_consent(claims.sub, &client.id, &scope, now).await {
            tracing::warn!(%err, "consent not recorded");
            return Outcome::Unavailable;
        }
        let without_prompt = AuthorizeRequest {
            prompt: request.prompt.as_ref().map(|p| p.replace("consent", "")),
            ..request.clone()
        };
        self.authorize(&without_prompt, browser).await
    }

    /// The request's rules once the client and its redirect URI are known: the granted
    /// scopes, or the error to send back.
    fn check(&self, client: &Client, request: &AuthorizeRequest) -> Result<String, OAuthError> {
        let too_long = [&request.state, &request.nonce, &request.code_challenge]
            .iter()
            .any(|value| value.as_ref().is_some_and(|v| v.len() > MAX_PARAMETER_LEN));
        if too_long {
            return Err(OAuthError::invalid_request("a parameter is too long"));
        }
        if request.request.is_some() {
            return Err(OAuthError::new(
                "request_not_supported",
                "request objects are not supported",
            ));
        }
        if request.request_uri.is_some() {
            return Err(OAuthError::new(
                "request_uri_not_supported",
                "request_uri is not supported",
            ));
        }
        if request.response_mode.as_deref().is_some_and(|mode| mode != "query") {
            return Err(OAuthError::invalid_request("response_mode: only query is supported"));
        }
        if request.response_type.as_deref() != Some("code") {
            return Err(OAuthError::new(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
        if !client.may_use(Grant::AuthorizationCode) {
            return Err(OAuthError::new(
                "unauthorized_client",
                "this client may not use the authorization code grant",
            ));
        }
        match (
            request.code_challenge.as_deref(),
            request.code_challenge_method.as_deref(),
        ) {
            (None, _) if client.public => {
                return Err(OAuthError::invalid_request(
                    "PKCE (S256) is required for public clients",
                ))
            }
            (Some(_), method) if method != Some("S256") => {
                return Err(OAuthError::invalid_request("code_challenge_method must be S256"))
            }
            _ => {}
        }
        if request
            .max_age
            .as_deref()
            .is_some_and(|age| age.parse::<u32>().is_err())
        {
            return Err(OAuthError::invalid_request("max_age must be a number of seconds"));
        }
        let scopes = client.grantable_scopes(request.scope.as_deref().unwrap_or_default());
        if scopes.is_empty() {
            return Err(OAuthError::new(
                "invalid_scope",
                "none of the requested scopes may be granted",
            ));
        }
        Ok(scopes.join(" "))
    }

    async fn issue_code(
        &self,
        client: &Client,
        claims: &Claims,
        redirect_uri: &str,
        grant: CodeGrant,
        request: &AuthorizeRequest,
    ) -> Result<String, OAuthError> {
        let CodeGrant {
            scope,
            resource,
            method,
            auth_time,
        } = grant;
        let code = self.secrets.random_token(32);
        let record = AuthorizationCode {
            digest: self.data_key.digest(CODE, code.expose_secret()),
            client_id: client.id.clone(),
            user_id: claims.sub,
            redirect_uri: redirect_uri.to_owned(),
            scope,
            nonce: request.nonce.clone(),
            code_challenge: request.code_challenge.clone(),
            auth_time,
            method,
            expires_at: self.clock.unix_now() + CODE_TTL_SECS,
            resource,
        };
        self.codes
            .insert_code(&record)
            .await
            .map_err(|e| OAuthError::from(AuthError::from(e)))?;
        Ok(code.expose_secret().to_owned())
    }

    /// `redirect_uri` with `parameters`, the request's `state` unchanged, and `iss` (RFC 9207).
    fn redirect(&self, redirect_uri: &str, parameters: &[(&str, &str)], request: &AuthorizeRequest) -> String {
        let mut url = Url::parse(redirect_uri).expect("registered redirect URIs are absolute");
        {
            let mut query = url.query_pairs_mut();
            for (name, value) in parameters {
                query.append_pair(name, value);
            }
            if let Some(state) = &request.state {
                query.append_pair("state", state);
            }
            query.append_pair("iss", self.issuer.as_str());
        }
        url.into()
    }
}
