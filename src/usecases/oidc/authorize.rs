//! The authorization endpoint's decision for one request (OpenID Connect Core §3.1.2):
//! refuse on a page when nothing may go back to the client (unknown client, unregistered
//! redirect URI), send the browser to sign in (again), or redirect to the client with a
//! code or an RFC 6749 error.

use std::sync::Arc;

use secrecy::ExposeSecret as _;
use url::Url;

use super::{target, Issuer};
use crate::domain::authorization::{Asks, AuthorizationRequest};
use crate::domain::oauth::{Client, Grant};
use crate::domain::oidc::{AuthorizationCode, OAuthError, CODE_TTL_SECS};
use crate::domain::sign_in_method::SignInMethod;
use crate::domain::token::Claims;
use crate::domain::AuthError;
use crate::ports::{ClientStore, Clock, CodeStore, ConsentStore, DataKey, OneTimeSecrets, StoreError};
use crate::usecases::sessions::Sessions;
use crate::usecases::Ports;

/// The digest purpose of authorization codes.
pub(super) const CODE: &str = "oauth-code";

/// What the endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Send the browser to the client: a code, or an error.
    Redirect(String),
    /// The user must sign in (again, when `fresh`), then come back to `then`: the same
    /// request without the `prompt=login` the sign-in satisfies.
    SignIn {
        fresh: bool,
        then: Box<AuthorizationRequest>,
    },
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
    method: SignInMethod,
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
    pub async fn authorize(&self, request: &AuthorizationRequest, browser: Option<&Claims>) -> Outcome {
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
        let asks = match &request.asks {
            Ok(asks) => asks,
            Err(err) => return back(Err(err.clone())),
        };
        let scope = match self.check(&client, asks) {
            Ok(scope) => scope,
            Err(err) => return back(Err(err)),
        };
        let resource = match target(self.clients.as_ref(), asks.resource.as_deref()).await {
            Ok(resource) => resource,
            Err(err) => return back(Err(err)),
        };
        let prompt = asks.prompt;
        let sign_in_again = |fresh| Outcome::SignIn {
            fresh,
            then: Box::new(request.satisfied(true, false)),
        };
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
            return match prompt.none {
                true => back(Err(OAuthError::new("login_required", "no one is signed in"))),
                false => sign_in_again(false),
            };
        };
        let too_old = asks
            .max_age
            .is_some_and(|age| self.clock.unix_now() - auth_time > i64::from(age));
        if prompt.login || too_old {
            return match prompt.none {
                true => back(Err(OAuthError::new("login_required", "a fresh sign-in is needed"))),
                false => sign_in_again(true),
            };
        }
        let consented = match client.first_party || prompt.consent {
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
            return match prompt.none {
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
        back(self.issue_code(&client, claims, redirect_uri, grant, asks).await)
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
    pub async fn answer_consent(
        &self,
        request: &AuthorizationRequest,
        browser: Option<&Claims>,
        allow: bool,
    ) -> Outcome {
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
            request
                .asks
                .as_ref()
                .map_err(Clone::clone)
                .and_then(|asks| self.check(&client, asks)),
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
        self.authorize(&request.satisfied(false, true), browser).await
    }

    /// The rules that depend on the client, once it and its redirect URI are known: the
    /// granted scopes, or the error to send back.
    fn check(&self, client: &Client, asks: &Asks) -> Result<String, OAuthError> {
        if !client.may_use(Grant::AuthorizationCode) {
            return Err(OAuthError::new(
                "unauthorized_client",
                "this client may not use the authorization code grant",
            ));
        }
        if client.public && asks.code_challenge.is_none() {
            return Err(OAuthError::invalid_request(
                "PKCE (S256) is required for public clients",
            ));
        }
        let scopes = client.grantable_scopes(&asks.scopes);
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
        asks: &Asks,
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
            nonce: asks.nonce.clone(),
            code_challenge: asks.code_challenge.clone(),
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
    fn redirect(&self, redirect_uri: &str, parameters: &[(&str, &str)], request: &AuthorizationRequest) -> String {
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
