//! Keeps sign-ins in progress ([`SignInFlow`]) in the cache port under the keyed digest of
//! their id: the id is a random token only the browser holds (in the page's address or a
//! form), so a flow can be neither guessed nor read from the store, and any instance
//! continues it. Each flow is bound to the browser that started it: read by another
//! browser (a leaked or planted id), it does not exist.

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret as _;
use subtle::ConstantTimeEq as _;

use uuid::Uuid;

use super::connected_accounts::link_identity;
use super::Ports;
use crate::domain::events::Origin;
use crate::domain::flow::{SignInFlow, Stage, Then};
use crate::domain::AuthError;
use crate::ports::{Cache, Clock, DataKey, IdentityStore, OneTimeSecrets};

/// The digest purpose of flow ids.
const PURPOSE: &str = "sign-in-flow";

/// Starts, reads, advances and ends sign-in flows.
pub struct SignInFlows {
    cache: Arc<dyn Cache>,
    data_key: Arc<dyn DataKey>,
    secrets: Arc<dyn OneTimeSecrets>,
    identities: Arc<dyn IdentityStore>,
    clock: Arc<dyn Clock>,
}

impl SignInFlows {
    pub fn new(ports: &Ports) -> Self {
        Self {
            cache: ports.cache.clone(),
            data_key: ports.data_key.clone(),
            secrets: ports.secrets.clone(),
            identities: ports.identities.clone(),
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

    /// Stores `flow`, ready made, under a new id; its id, for the browser.
    pub async fn begin(&self, flow: SignInFlow) -> Result<String, AuthError> {
        let id = self.secrets.random_token(32).expose_secret().to_owned();
        self.save(&id, &flow).await?;
        Ok(id)
    }

    /// The live flow `id` of `browser`, taken: nobody can read it again (a `state` is
    /// single use). `None` as for [`SignInFlows::get`]; another browser's read leaves the
    /// flow to its own browser, and of two reads at once only one takes it.
    pub async fn take(&self, id: &str, browser: &str) -> Result<Option<SignInFlow>, AuthError> {
        if self.get(id, browser).await?.is_none() {
            return Ok(None);
        }
        let text = self.cache.take(&self.key(id)).await?;
        Ok(text.and_then(|text| self.live_for(&text, browser)))
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
        Ok(self.live_for(&text, browser))
    }

    /// The stored flow `text`, if it is live and `browser`'s.
    fn live_for(&self, text: &str, browser: &str) -> Option<SignInFlow> {
        let flow = serde_json::from_str::<SignInFlow>(text).ok();
        let now = self.clock.unix_now();
        flow.filter(|flow| flow.is_live(now) && bool::from(flow.browser.as_bytes().ct_eq(browser.as_bytes())))
    }

    /// The flow `flow` ended with `user_id` signed in: the upstream identity it was waiting
    /// to link is linked, when `user_id` is the account it was waiting for.
    pub async fn link_pending(&self, flow: &SignInFlow, user_id: Uuid, origin: &Origin) -> Result<(), AuthError> {
        let Some(pending) = flow.link.as_ref().filter(|pending| pending.user_id == user_id) else {
            return Ok(());
        };
        link_identity(
            self.identities.as_ref(),
            self.clock.as_ref(),
            user_id,
            &pending.provider,
            &pending.subject,
            pending.email.clone(),
            Some(origin),
        )
        .await
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
