//! Keeps sign-ins in progress ([`SignInFlow`]) in the cache port under the keyed digest of
//! their id: the id is a random token only the browser holds (in the page's address or a
//! form), so a flow can be neither guessed nor read from the store, and any instance
//! continues it. Each flow is bound to the browser that started it: read by another
//! browser (a leaked or planted id), it does not exist.

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret as _;
use subtle::ConstantTimeEq as _;

use super::Ports;
use crate::domain::flow::{SignInFlow, Stage, Then};
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

    /// Starts a flow for `browser` (the browser's binding, see `Browser::binding`) at
    /// `stage`, leading to `then`, a fresh sign-in when `fresh`; its id, for the browser.
    pub async fn start(&self, browser: &str, stage: Stage, then: Then, fresh: bool) -> Result<String, AuthError> {
        let id = self.secrets.random_token(32).expose_secret().to_owned();
        let flow = SignInFlow::start(stage, then, browser, self.clock.unix_now());
        let flow = if fresh { flow.fresh() } else { flow };
        self.save(&id, &flow).await?;
        Ok(id)
    }

    /// The live flow `id` of `browser`; `None` when unknown, over, unreadable or another
    /// browser's.
    pub async fn get(&self, id: &str, browser: &str) -> Result<Option<SignInFlow>, AuthError> {
        if id.is_empty() {
            return Ok(None);
        }
        let Some(text) = self.cache.get(&self.key(id)).await? else {
            return Ok(None);
        };
        let flow = serde_json::from_str::<SignInFlow>(&text).ok();
        let now = self.clock.unix_now();
        Ok(flow.filter(|flow| flow.is_live(now) && bool::from(flow.browser.as_bytes().ct_eq(browser.as_bytes()))))
    }

    /// Stores the flow `id` at its new stage (until its own expiry).
    pub async fn save(&self, id: &str, flow: &SignInFlow) -> Result<(), AuthError> {
        let left = (flow.expires_at - self.clock.unix_now()).max(1) as u64;
        let text = serde_json::to_string(flow).expect("a flow serializes");
        self.cache.put(&self.key(id), &text, Duration::from_secs(left)).await?;
        Ok(())
    }

    /// Ends the flow `id` (done, or abandoned).
    pub async fn finish(&self, id: &str) {
        if let Err(err) = self.cache.delete(&self.key(id)).await {
            tracing::warn!(%err, "a finished sign-in flow stays until it expires");
        }
    }

    fn key(&self, id: &str) -> String {
        format!("flow:{}", self.data_key.digest(PURPOSE, id))
    }
}
