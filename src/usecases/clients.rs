//! Registering the applications that sign people in through authd (OpenID Connect
//! clients): by an administrator over the API or by the operator on the command line. A
//! confidential client's secret is shown once, at registration, and kept as a digest.

use std::collections::HashSet;
use std::sync::Arc;

use parking_lot::Mutex;

use secrecy::{ExposeSecret as _, SecretString};

use super::{account_of, Ports};
use crate::domain::oauth::{Client, ClientRequest};
use crate::domain::token::Claims;
use crate::domain::AuthError;
use crate::ports::{ClientStore, Clock, Consent, ConsentStore, DataKey, OneTimeSecrets, SessionStore, UserStore};
use crate::usecases::sessions::{client_sid, Sessions};

/// The digest purpose of client secrets.
const SECRET: &str = "oauth-client-secret";

/// What a registration hands back, once.
#[derive(Debug)]
pub struct Registered {
    pub client: Client,
    /// `None` for a public client.
    pub secret: Option<SecretString>,
}

/// How the client identified itself at the token endpoint.
#[derive(Debug, Clone)]
pub struct ClientAuth {
    pub client_id: Option<String>,
    pub secret: Option<SecretString>,
    /// Sent as HTTP Basic: a failure then answers `WWW-Authenticate: Basic`.
    pub basic: bool,
}

/// Registers, lists, authenticates and removes clients.
pub struct OAuthClients {
    users: Arc<dyn UserStore>,
    clients: Arc<dyn ClientStore>,
    data_key: Arc<dyn DataKey>,
    secrets: Arc<dyn OneTimeSecrets>,
    clock: Arc<dyn Clock>,
    store: Arc<dyn SessionStore>,
    consents: Arc<dyn ConsentStore>,
    sessions: Arc<Sessions>,
    /// `AUTH_CORS_ORIGINS`, normalised.
    extra_origins: Vec<String>,
    /// The registered clients' web origins, read at most once per [`ORIGINS_TTL_SECS`].
    origins: Mutex<Option<(i64, Arc<HashSet<String>>)>>,
}

/// How long the registered clients' origins are kept before they are read again.
const ORIGINS_TTL_SECS: i64 = 5;

impl OAuthClients {
    pub fn new(ports: &Ports, sessions: Arc<Sessions>, cors_origins: &[String]) -> Self {
        let extra_origins = cors_origins
            .iter()
            .filter_map(|origin| url::Url::parse(origin.trim()).ok())
            .map(|url| url.origin().ascii_serialization())
            .collect();
        Self {
            extra_origins,
            origins: Mutex::new(None),
            store: ports.sessions.clone(),
            consents: ports.consents.clone(),
            sessions,
            users: ports.users.clone(),
            clients: ports.clients.clone(),
            data_key: ports.data_key.clone(),
            secrets: ports.secrets.clone(),
            clock: ports.clock.clone(),
        }
    }

    /// Registers a client for an administrator.
    pub async fn register_as_admin(&self, caller: &Claims, request: ClientRequest) -> Result<Registered, AuthError> {
        self.ensure_admin(caller).await?;
        self.register(request).await
    }

    /// Registers a client (the command line: whoever runs it holds the deployment).
    pub async fn register(&self, request: ClientRequest) -> Result<Registered, AuthError> {
        let valid = request.validate()?;
        let secret = (!valid.public).then(|| self.secrets.random_token(32));
        let client = Client {
            id: self.fresh_client_id(),
            name: valid.name,
            secret_digest: secret.as_ref().map(|s| self.data_key.digest(SECRET, s.expose_secret())),
            redirect_uris: valid.redirect_uris,
            post_logout_redirect_uris: valid.post_logout_redirect_uris,
            public: valid.public,
            first_party: valid.first_party,
            scopes: valid.scopes,
            grants: valid.grants,
            id_token_alg: valid.id_token_alg,
            created_at: self.clock.unix_now(),
            resource: valid.resource,
        };
        self.clients.insert_client(&client).await?;
        Ok(Registered { client, secret })
    }

    /// A random client id that no command line mistakes for an option (base64url may
    /// begin with `-`).
    fn fresh_client_id(&self) -> String {
        loop {
            let id = self.secrets.random_token(16).expose_secret().to_owned();
            if !id.starts_with('-') {
                return id;
            }
        }
    }

    /// Every client, for an administrator.
    pub async fn list_as_admin(&self, caller: &Claims) -> Result<Vec<Client>, AuthError> {
        self.ensure_admin(caller).await?;
        self.list().await
    }

    /// Every client, oldest first.
    pub async fn list(&self) -> Result<Vec<Client>, AuthError> {
        Ok(self.clients.clients().await?)
    }

    /// Removes a client, for an administrator.
    pub async fn delete_as_admin(&self, caller: &Claims, client_id: &str) -> Result<(), AuthError> {
        self.ensure_admin(caller).await?;
        self.delete(client_id).await
    }

    /// Removes a client; an unknown id is 404. Its tokens stop working on every instance:
    /// the sessions it holds are revoked, and so are its own (client credentials) tokens.
    pub async fn delete(&self, client_id: &str) -> Result<(), AuthError> {
        if !self.clients.delete_client(client_id).await? {
            return Err(AuthError::NotFound("client"));
        }
        let held = self
            .store
            .client_sessions(client_id, None, self.clock.unix_now())
            .await?;
        for sid in held.into_iter().chain([client_sid(client_id)]) {
            self.sessions.revoke_quietly(sid).await?;
        }
        Ok(())
    }

    /// The client `auth` names, when it proved who it is: a confidential client by its
    /// secret, a public one by its id alone; `None` otherwise.
    pub async fn authenticate(&self, auth: &ClientAuth) -> Result<Option<Client>, AuthError> {
        let Some(id) = auth.client_id.as_deref() else {
            return Ok(None);
        };
        let Some(client) = self.clients.client(id).await? else {
            return Ok(None);
        };
        let proved = match (&auth.secret, client.public) {
            (None, true) => true,
            (Some(secret), false) => self.secret_matches(&client, secret),
            _ => false,
        };
        Ok(proved.then_some(client))
    }

    /// The API registered as `resource` (RFC 8707), when there is one.
    pub async fn resource(&self, resource: &str) -> Result<Option<Client>, AuthError> {
        Ok(self.clients.client_by_resource(resource).await?)
    }

    /// Whether a browser application at `origin` may call the OAuth endpoints (CORS): an
    /// origin of a registered redirect URI, or one of `AUTH_CORS_ORIGINS`.
    pub async fn allows_origin(&self, origin: &str) -> bool {
        if self.extra_origins.iter().any(|o| o == origin) {
            return true;
        }
        let now = self.clock.unix_now();
        let cached = self.origins.lock().clone();
        let known = match cached {
            Some((read_at, known)) if now - read_at < ORIGINS_TTL_SECS => known,
            _ => match self.clients.clients().await {
                Ok(clients) => {
                    let known: Arc<HashSet<String>> = Arc::new(clients.iter().flat_map(Client::web_origins).collect());
                    *self.origins.lock() = Some((now, known.clone()));
                    known
                }
                Err(err) => {
                    tracing::warn!(%err, "the clients' origins could not be read");
                    return false;
                }
            },
        };
        known.contains(origin)
    }

    /// The caller's consents to third-party clients, newest first.
    pub async fn consents(&self, caller: &Claims) -> Result<Vec<Consent>, AuthError> {
        Ok(self.consents.consents_of(caller.sub).await?)
    }

    /// Withdraws the caller's consent to `client_id`; the sessions that client holds for
    /// the caller end on every instance.
    pub async fn withdraw_consent(&self, caller: &Claims, client_id: &str) -> Result<(), AuthError> {
        if !self.consents.withdraw_consent(caller.sub, client_id).await? {
            return Err(AuthError::NotFound("consent"));
        }
        let now = self.clock.unix_now();
        for sid in self.store.client_sessions(client_id, Some(caller.sub), now).await? {
            self.sessions.revoke_quietly(sid).await?;
        }
        Ok(())
    }

    /// Whether `presented` is the client's secret, compared in constant time; a public
    /// client has none to present.
    pub fn secret_matches(&self, client: &Client, presented: &SecretString) -> bool {
        client
            .secret_digest
            .as_deref()
            .is_some_and(|digest| self.data_key.matches(SECRET, presented.expose_secret(), digest))
    }

    async fn ensure_admin(&self, caller: &Claims) -> Result<(), AuthError> {
        match account_of(self.users.as_ref(), caller).await?.is_admin {
            true => Ok(()),
            false => Err(AuthError::Forbidden("only administrators manage clients")),
        }
    }
}
