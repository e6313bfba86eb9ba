//! Keeps sign-ins in progress ([`SignInFlow`]) in the cache port under the keyed digest of
//! their id: the id is a random token only the browser holds (in a cookie), so a flow can
//! be neither guessed nor read from the store, and any instance continues it.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};

use super::Ports;
use crate::domain::flow::{SignInFlow, Stage};
use crate::domain::AuthError;
use crate::ports::{Cache, Clock, DataKey, OneTimeSecrets};

/// The digest purpose of flow ids.
const PURPOSE: &str = "sign-in-flow";

/// Starts, reads, advances and ends sign-in flows.
pub struct SignInFlows {
    cache: Arc<dyn Cache>,
    data_key: Arc<dyn DataKey>,
    secrets: Arc<dyn OneTimeSecrets>,
    clock: Arc<dyn Clock>,
}

impl SignInFlows {
    pub fn new(ports: &Ports) -> Self {
        Self {
            cache: ports.cache.clone(),
            data_key: ports.data_key.clone(),
            secrets: ports.secrets.clone(),
            clock: ports.clock.clone(),
        }
    }

    /// Starts a flow at `stage` toward `return_to` (an own path, already checked); its id
    /// for the browser's cookie.
    pub async fn start(
        &self,
        stage: Stage,
        return_to: Option<String>,
    ) -> Result<(SecretString, SignInFlow), AuthError> {
        let id = self.secrets.random_token(32);
        let flow = SignInFlow::start(stage, return_to, self.clock.unix_now());
        self.save(id.expose_secret(), &flow).await?;
        Ok((id, flow))
    }

    /// The live flow `id` names; `None` when unknown, over or tampered with.
    pub async fn get(&self, id: &str) -> Result<Option<SignInFlow>, AuthError> {
        let Some(text) = self.cache.get(&self.key(id)).await? else {
            return Ok(None);
        };
        let flow = serde_json::from_str::<SignInFlow>(&text).ok();
        Ok(flow.filter(|flow| flow.is_live(self.clock.unix_now())))
    }

    /// Stores the flow `id` at its new stage (until its own expiry).
    pub async fn save(&self, id: &str, flow: &SignInFlow) -> Result<(), AuthError> {
        let left = (flow.expires_at - self.clock.unix_now()).max(1) as u64;
        let text = serde_json::to_string(flow).expect("a flow serializes");
        self.cache.put(&self.key(id), &text, Duration::from_secs(left)).await?;
        Ok(())
    }

    /// Ends the flow `id` (signed in, or signed out).
    pub async fn finish(&self, id: &str) {
        if let Err(err) = self.cache.delete(&self.key(id)).await {
            tracing::warn!(%err, "a finished sign-in flow stays until it expires");
        }
    }

    fn key(&self, id: &str) -> String {
        format!("flow:{}", self.data_key.digest(PURPOSE, id))
    }
}
