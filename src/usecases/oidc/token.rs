//! The token endpoint (RFC 6749 §3.2) and userinfo (OpenID Connect Core §5.3): client
//! authentication, the authorization code grant with PKCE and code-reuse revocation, the
//! ID token, and the claims each scope releases.

use std::sync::Arc;

use secrecy::{ExposeSecret as _, SecretString};

use super::authorize::CODE;
use super::claims::{id_token, released, IdTokenFacts, Released};
use super::{target, Issuer};
use crate::domain::authorization::scope_list;
use crate::domain::oauth::{Client, Grant};
use crate::domain::oidc::{pkce_matches, OAuthError, Redemption};
use crate::domain::session::Audience;
use crate::domain::token::Claims;
use crate::domain::AuthError;
use crate::ports::{ClientStore, Clock, CodeStore, DataKey, IdTokenSigning, UserStore};
use crate::usecases::clients::{ClientAuth, OAuthClients};
use crate::usecases::sessions::Sessions;
use crate::usecases::Ports;

/// Scopes about a person (or acting for one), which a client acting for itself never gets.
const USER_SCOPES: &[&str] = &[
    "openid",
    "offline_access",
    "profile",
    "email",
    "phone",
    crate::domain::token::API_SCOPE,
];

/// A token request's parameters, as sent.
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<SecretString>,
    pub scope: Option<String>,
    /// The API the token is for (RFC 8707).
    pub resource: Option<String>,
}

/// A successful token response.
#[derive(Debug)]
pub struct Granted {
    pub access_token: SecretString,
    pub expires_in: i64,
    pub id_token: Option<String>,
    /// With `offline_access` granted to a client that may refresh.
    pub refresh_token: Option<SecretString>,
    pub scope: String,
}

/// A refused token request: `client` errors answer 401, the others 400.
#[derive(Debug)]
pub struct TokenError {
    pub error: OAuthError,
    pub client: bool,
    pub basic: bool,
}

impl From<OAuthError> for TokenError {
    fn from(error: OAuthError) -> Self {
        Self {
            error,
            client: false,
            basic: false,
        }
    }
}

/// The client `auth` proves, as the token, revocation and introspection endpoints need
/// it (`confidential_only`: a public client is refused too); else 401 `invalid_client`.
pub(super) async fn authenticated(
    clients: &OAuthClients,
    auth: &ClientAuth,
    confidential_only: bool,
) -> Result<Client, TokenError> {
    match clients.authenticate(auth).await {
        Ok(Some(client)) if !(confidential_only && client.public) => Ok(client),
        Ok(_) => Err(TokenError {
            error: OAuthError::new("invalid_client", "client authentication failed"),
            client: true,
            basic: auth.basic,
        }),
        Err(err) => Err(OAuthError::from(err).into()),
    }
}

/// Grants tokens and answers userinfo.
pub struct TokenGrants {
    secrets: Arc<OAuthClients>,
    clients: Arc<dyn ClientStore>,
    codes: Arc<dyn CodeStore>,
    users: Arc<dyn UserStore>,
    data_key: Arc<dyn DataKey>,
    id_tokens: Arc<dyn IdTokenSigning>,
    clock: Arc<dyn Clock>,
    sessions: Arc<Sessions>,
    issuer: Issuer,
    /// Lifetime of a client credentials token.
    token_ttl_secs: i64,
}

impl TokenGrants {
    pub fn new(
        ports: &Ports,
        secrets: Arc<OAuthClients>,
        sessions: Arc<Sessions>,
        issuer: Issuer,
        token_ttl_secs: i64,
    ) -> Self {
        Self {
            secrets,
            clients: ports.clients.clone(),
            codes: ports.codes.clone(),
            users: ports.users.clone(),
            data_key: ports.data_key.clone(),
            id_tokens: ports.id_tokens.clone(),
            clock: ports.clock.clone(),
            sessions,
            issuer,
            token_ttl_secs,
        }
    }

    /// Answers a token request from the client `auth` names.
    pub async fn grant(
        &self,
        auth: ClientAuth,
        request: TokenRequest,
        origin: &crate::domain::events::Origin,
    ) -> Result<Granted, TokenError> {
        let client = authenticated(&self.secrets, &auth, false).await?;
        let grant = match request.grant_type.as_deref() {
            None => return Err(OAuthError::invalid_request("grant_type is missing").into()),
            Some(name) => Grant::parse(name).map_err(|_| {
                OAuthError::new(
                    "unsupported_grant_type",
                    "supported: authorization_code, refresh_token, client_credentials",
                )
            })?,
        };
        if !client.may_use(grant) {
            return Err(OAuthError::new("unauthorized_client", "this client may not use that grant").into());
        }
        Ok(match grant {
            Grant::AuthorizationCode => self.redeem(&client, &request, origin).await?,
            Grant::RefreshToken => self.refresh(&client, &request, origin).await?,
            Grant::ClientCredentials => self.for_itself(&client, &request).await?,
        })
    }

    async fn redeem(
        &self,
        client: &Client,
        request: &TokenRequest,
        origin: &crate::domain::events::Origin,
    ) -> Result<Granted, OAuthError> {
        let code = request
            .code
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
        let digest = self.data_key.digest(CODE, code);
        let now = self.clock.unix_now();
        let record = match self.codes.redeem_code(&digest, now).await.map_err(AuthError::from)? {
            Redemption::Fresh(record) => *record,
            Redemption::Reused { issued_session } => {
                if let Some(sid) = issued_session {
                    self.revoke_reused(sid, origin).await;
                }
                return Err(OAuthError::invalid_grant(
                    "the code was used already; what it issued is revoked",
                ));
            }
            Redemption::Unknown => return Err(OAuthError::invalid_grant("the code is unknown or expired")),
        };
        if record.client_id != client.id {
            return Err(OAuthError::invalid_grant("the code was issued to another client"));
        }
        if request.redirect_uri.as_deref() != Some(record.redirect_uri.as_str()) {
            return Err(OAuthError::invalid_grant(
                "redirect_uri differs from the authorization request's",
            ));
        }
        match (&record.code_challenge, request.code_verifier.as_deref()) {
            (Some(challenge), Some(verifier)) if pkce_matches(verifier, challenge) => {}
            (None, None) => {}
            _ => return Err(OAuthError::invalid_grant("the PKCE code_verifier does not match")),
        }
        let resource = match (record.resource.clone(), request.resource.as_deref()) {
            (asked, None) => asked,
            (None, Some(later)) => target(self.clients.as_ref(), Some(later)).await?,
            (Some(asked), Some(again)) => match target(self.clients.as_ref(), Some(again)).await? {
                Some(same) if same == asked => Some(asked),
                _ => {
                    return Err(OAuthError::new(
                        "invalid_target",
                        "resource differs from the authorization request's",
                    ))
                }
            },
        };
        let profile = self
            .users
            .profile(record.user_id)
            .await
            .map_err(AuthError::from)?
            .ok_or_else(|| OAuthError::invalid_grant("the account is gone"))?;
        let audience = Audience {
            client_id: client.id.clone(),
            scope: record.scope.clone(),
            resource,
            signed_in_at: record.auth_time,
        };
        let credential = self
            .sessions
            .open_for_client(&profile.user, record.method, audience, origin)
            .await?;
        let claims = &credential.token.claims;
        if let Err(err) = self.codes.record_issued_session(&digest, claims.sid).await {
            tracing::warn!(%err, "the session a code issued is not recorded; a reuse cannot revoke it");
        }
        let scopes: Vec<&str> = record.scope.split(' ').collect();
        let id_token = scopes.contains(&"openid").then(|| {
            let facts = IdTokenFacts {
                session: claims.sid,
                expires_at: claims.exp,
                issued_at: now,
                auth_time: record.auth_time,
                method: record.method,
                access_token: credential.token.token.expose_secret(),
                nonce: record.nonce.as_deref(),
            };
            id_token(self.id_tokens.as_ref(), &self.issuer, client, &profile, &scopes, &facts)
        });
        let refresh_token = (scopes.contains(&"offline_access") && client.may_use(Grant::RefreshToken))
            .then(|| self.sessions.refresh_token_for(claims));
        Ok(Granted {
            expires_in: credential.expires_in,
            access_token: credential.token.token,
            id_token,
            refresh_token,
            scope: record.scope,
        })
    }

    /// The refresh token grant (RFC 6749 §6): the session rotates, with its reuse detection;
    /// a rotated-away refresh token used again revokes the session.
    async fn refresh(
        &self,
        client: &Client,
        request: &TokenRequest,
        origin: &crate::domain::events::Origin,
    ) -> Result<Granted, OAuthError> {
        let token = request
            .refresh_token
            .as_ref()
            .ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
        let credential = self
            .sessions
            .refresh_for_client(token, &client.id, origin)
            .await
            .map_err(|err| match err {
                AuthError::InvalidToken | AuthError::TokenReused => {
                    OAuthError::invalid_grant("the refresh token is invalid, expired, revoked or reused")
                }
                other => OAuthError::from(other),
            })?;
        let claims = &credential.token.claims;
        if let Some(asked) = request.resource.as_deref() {
            let same = target(self.clients.as_ref(), Some(asked)).await?;
            if same.as_deref() != claims.aud.as_deref() {
                return Err(OAuthError::new(
                    "invalid_target",
                    "a refresh keeps the resource the tokens were issued for",
                ));
            }
        }
        let scope = claims.scope.clone().unwrap_or_default();
        let id_token = match claims.has_scope("openid") {
            true => self.refreshed_id_token(client, claims, &credential.token.token).await,
            false => None,
        };
        Ok(Granted {
            refresh_token: Some(self.sessions.refresh_token_for(claims)),
            scope,
            expires_in: credential.expires_in,
            access_token: credential.token.token,
            id_token,
        })
    }

    /// A new ID token after a refresh (OIDC Core §12.2): the same subject, audience and
    /// `auth_time` as at sign-in, a new `iat`, no `nonce`. `None` (and a warning) when the
    /// session or the account cannot be read now; the tokens are still good.
    async fn refreshed_id_token(&self, client: &Client, claims: &Claims, access: &SecretString) -> Option<String> {
        let sign_in = self.sessions.sign_in_of(claims.sid).await;
        let profile = self.users.profile(claims.sub).await;
        let (Ok(Some((method, auth_time))), Ok(Some(profile))) = (sign_in, profile) else {
            tracing::warn!("no ID token with this refresh: the session or account could not be read");
            return None;
        };
        let scope = claims.scope.as_deref().unwrap_or_default();
        let scopes: Vec<&str> = scope.split(' ').collect();
        let facts = IdTokenFacts {
            session: claims.sid,
            expires_at: claims.exp,
            issued_at: self.clock.unix_now(),
            auth_time,
            method,
            access_token: access.expose_secret(),
            nonce: None,
        };
        Some(id_token(
            self.id_tokens.as_ref(),
            &self.issuer,
            client,
            &profile,
            &scopes,
            &facts,
        ))
    }

    /// The client credentials grant (RFC 6749 §4.4): a token for the client itself, with
    /// the scopes it asked for and registered (none of the user-facing ones; none at all
    /// when it asks for none), for itself or for the API `resource` names.
    async fn for_itself(&self, client: &Client, request: &TokenRequest) -> Result<Granted, OAuthError> {
        let requested = scope_list(request.scope.as_deref().unwrap_or_default());
        let scopes: Vec<&str> = client
            .grantable_scopes(&requested)
            .into_iter()
            .filter(|s| !USER_SCOPES.contains(s))
            .collect();
        let scope = scopes.join(" ");
        let resource = target(self.clients.as_ref(), request.resource.as_deref()).await?;
        let issued = self
            .sessions
            .client_token(&client.id, resource, scope.clone(), self.token_ttl_secs);
        Ok(Granted {
            expires_in: self.token_ttl_secs,
            access_token: issued.token,
            id_token: None,
            refresh_token: None,
            scope,
        })
    }

    /// A code presented twice: the session its first redemption opened ends everywhere.
    async fn revoke_reused(&self, sid: uuid::Uuid, origin: &crate::domain::events::Origin) {
        match self.sessions.owner_of(sid).await {
            Ok(Some(user_id)) => {
                if let Err(err) = self.sessions.close(user_id, sid, origin, "code_reused").await {
                    tracing::warn!(%err, "the session of a reused code could not be revoked");
                }
            }
            Ok(None) => {}
            Err(err) => tracing::warn!(%err, "the session of a reused code could not be read"),
        }
    }

    /// The claims of the user an OpenID Connect access token was issued for, as far as
    /// its scopes release them. Only a token meant for the client itself (not for another
    /// API) and granted `openid` reaches userinfo.
    pub async fn userinfo(&self, claims: &Claims) -> Result<Released, OAuthError> {
        if !claims.meant_for_client() || !claims.has_scope("openid") {
            return Err(OAuthError::new(
                "insufficient_scope",
                "the token was not issued with openid",
            ));
        }
        let profile = self
            .users
            .profile(claims.sub)
            .await
            .map_err(AuthError::from)?
            .ok_or(AuthError::InvalidToken)?;
        let scope = claims.scope.as_deref().unwrap_or_default();
        let scopes: Vec<&str> = scope.split(' ').collect();
        Ok(released(&profile, &scopes))
    }
}
