//! GitHub: OAuth 2.0 without OpenID Connect. The code (with its PKCE verifier) buys an
//! access token; the person is `/user` (its numeric `id` is the subject) and the address is
//! the primary one `/user/emails` says GitHub verified; an unverified primary address is
//! no address at all.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, TokenResponse as _, TokenUrl,
};
use secrecy::ExposeSecret as _;
use serde::Deserialize;

use super::{counted, Http};
use crate::domain::upstream::{UpstreamProfile, UpstreamRefusal};
use crate::ports::{Arrival, Departure};
use crate::upstream_config::{GithubEndpoints, UpstreamProvider};

type Refusal = UpstreamRefusal;

/// A GitHub (or GitHub-shaped) provider of the configuration.
pub struct GithubProvider {
    config: UpstreamProvider,
    endpoints: GithubEndpoints,
    http: Http,
}

#[derive(Deserialize)]
struct GithubUser {
    id: u64,
    login: String,
    name: Option<String>,
}

#[derive(Deserialize)]
struct GithubEmail {
    email: String,
    primary: bool,
    verified: bool,
}

impl GithubProvider {
    pub fn new(config: UpstreamProvider, http: Http) -> anyhow::Result<Self> {
        let endpoints = config
            .github
            .clone()
            .ok_or_else(|| anyhow::anyhow!("github needs its endpoints"))?;
        Ok(Self {
            config,
            endpoints,
            http,
        })
    }

    pub async fn departure(&self, state: &str, redirect_uri: &str) -> Result<Departure, Refusal> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = state.to_owned();
        let client = self.client(redirect_uri)?;
        let (url, _) = client
            .authorize_url(move || CsrfToken::new(state))
            .add_scopes(self.config.scopes.iter().map(|s| Scope::new(s.clone())))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Departure {
            url: url.to_string(),
            nonce: None,
            pkce_verifier: verifier.secret().clone(),
        })
    }

    pub async fn arrival(&self, arrival: Arrival, redirect_uri: &str) -> Result<UpstreamProfile, Refusal> {
        let client = self.client(redirect_uri)?;
        let exchange = client
            .exchange_code(AuthorizationCode::new(arrival.code))
            .set_pkce_verifier(PkceCodeVerifier::new(arrival.pkce_verifier))
            .request_async(&self.http);
        let token = counted(&self.config.id, "token", exchange).await.map_err(|err| {
            tracing::info!(provider = self.config.id.as_str(), %err, "upstream code exchange failed");
            match err {
                RequestTokenError::ServerResponse(_) => Refusal::BadAnswer,
                _ => Refusal::Unreachable,
            }
        })?;
        let bearer = token.access_token().secret().clone();
        let user: GithubUser = self.api("user", &bearer).await?;
        let emails: Vec<GithubEmail> = self.api("user/emails", &bearer).await?;
        let primary = emails.into_iter().find(|e| e.primary && e.verified);
        Ok(UpstreamProfile {
            subject: user.id.to_string(),
            email_verified: primary.is_some(),
            email: primary.map(|e| e.email),
            name: user.name.filter(|n| !n.trim().is_empty()).or(Some(user.login)),
        })
    }

    async fn api<T: serde::de::DeserializeOwned>(&self, path: &str, bearer: &str) -> Result<T, Refusal> {
        let url = format!("{}/{path}", self.endpoints.api_url.trim_end_matches('/'));
        let call = async {
            self.http
                .get(&url)
                .bearer_auth(bearer)
                .header("Accept", "application/vnd.github+json")
                .header("User-Agent", "authd")
                .send()
                .await?
                .error_for_status()?
                .json::<T>()
                .await
        };
        counted(&self.config.id, "api", call).await.map_err(|err| {
            tracing::warn!(provider = self.config.id.as_str(), %err, "GitHub's API did not answer usably");
            Refusal::Unreachable
        })
    }

    fn client(
        &self,
        redirect_uri: &str,
    ) -> Result<
        BasicClient<
            oauth2::EndpointSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointSet,
        >,
        Refusal,
    > {
        let unusable = |_| Refusal::Unreachable;
        let mut client = BasicClient::new(ClientId::new(self.config.client_id.clone()))
            .set_auth_uri(AuthUrl::new(self.endpoints.auth_url.clone()).map_err(unusable)?)
            .set_token_uri(TokenUrl::new(self.endpoints.token_url.clone()).map_err(unusable)?)
            .set_redirect_uri(RedirectUrl::new(redirect_uri.to_owned()).map_err(unusable)?);
        if let Some(secret) = &self.config.client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()));
        }
        Ok(client)
    }
}
