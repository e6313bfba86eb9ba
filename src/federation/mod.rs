//! Adapter: the upstream identity providers of the configuration file, behind the
//! [`UpstreamProviders`] port. OpenID Connect kinds go through the `openidconnect` crate
//! (`oidc.rs`, with Apple's secret and name in `apple.rs`); GitHub through `oauth2` and its
//! API (`github.rs`). Every outbound call has a timeout and follows no redirect, and a
//! provider that does not answer is a refusal the pages explain, never a server error.

mod apple;
mod github;
mod oidc;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::upstream::{ProviderId, UpstreamProfile, UpstreamRefusal};
use crate::ports::{Arrival, Clock, Departure, OfferedProvider, UpstreamProviders};
use crate::telemetry::metrics as telemetry;
use crate::upstream_config::UpstreamProvider;

use github::GithubProvider;
use oidc::OidcProvider;

/// The HTTP client of every call to a provider.
type Http = reqwest::Client;

/// How long one call to a provider may take, and its connection.
const CALL_TIMEOUT: Duration = Duration::from_secs(8);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// One provider, by how it is spoken to.
enum Provider {
    OpenIdConnect(Box<OidcProvider>),
    Github(Box<GithubProvider>),
}

/// The configured providers.
pub struct Federation {
    offered: Vec<OfferedProvider>,
    providers: Vec<Provider>,
}

impl Federation {
    /// The providers of `configured`; fails on one it could not use (Apple's key unreadable).
    pub fn new(configured: &[UpstreamProvider], clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        // OAuth 2.0 (RFC 6749 §10.15 and the oauth2 crate's advice): follow no redirect.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(CALL_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()?;
        let mut offered = Vec::new();
        let mut providers = Vec::new();
        for config in configured {
            offered.push(OfferedProvider {
                id: config.id.clone(),
                name: config.name.clone(),
                kind: config.kind,
                policy: config.policy,
            });
            providers.push(match config.kind.is_openid_connect() {
                true => Provider::OpenIdConnect(Box::new(OidcProvider::new(
                    config.clone(),
                    http.clone(),
                    clock.clone(),
                )?)),
                false => Provider::Github(Box::new(GithubProvider::new(config.clone(), http.clone())?)),
            });
        }
        Ok(Self { offered, providers })
    }

    fn provider(&self, id: &ProviderId) -> Result<&Provider, UpstreamRefusal> {
        let at = self.offered.iter().position(|p| &p.id == id);
        at.map(|at| &self.providers[at]).ok_or(UpstreamRefusal::BadState)
    }
}

#[async_trait]
impl UpstreamProviders for Federation {
    fn offered(&self) -> &[OfferedProvider] {
        &self.offered
    }

    async fn departure(&self, id: &ProviderId, state: &str, redirect_uri: &str) -> Result<Departure, UpstreamRefusal> {
        match self.provider(id)? {
            Provider::OpenIdConnect(provider) => provider.departure(state, redirect_uri).await,
            Provider::Github(provider) => provider.departure(state, redirect_uri).await,
        }
    }

    async fn arrival(
        &self,
        id: &ProviderId,
        arrival: Arrival,
        redirect_uri: &str,
    ) -> Result<UpstreamProfile, UpstreamRefusal> {
        match self.provider(id)? {
            Provider::OpenIdConnect(provider) => provider.arrival(arrival, redirect_uri).await,
            Provider::Github(provider) => provider.arrival(arrival, redirect_uri).await,
        }
    }
}

/// `call` to `provider`, counted in `/metrics`.
async fn counted<T>(provider: &ProviderId, call: &'static str, future: impl Future<Output = T>) -> T {
    metrics::counter!(telemetry::UPSTREAM_REQUESTS, "provider" => provider.as_str().to_owned(), "call" => call)
        .increment(1);
    future.await
}
