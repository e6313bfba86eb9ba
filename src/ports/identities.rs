//! Upstream identity providers (`domain/upstream.rs`): the identities linked to accounts,
//! and the round trip that proves one.

use async_trait::async_trait;
use uuid::Uuid;

use super::StoreResult;
use crate::domain::events::SecurityEvent;
use crate::domain::upstream::{AccountPolicy, Identity, ProviderId, ProviderKind, UpstreamProfile, UpstreamRefusal};

/// Linked upstream identities.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// The identity `subject` has at `provider`, when it is linked to an account.
    async fn identity(&self, provider: &ProviderId, subject: &str) -> StoreResult<Option<Identity>>;
    /// The account's identities, oldest first.
    async fn identities_of(&self, user_id: Uuid) -> StoreResult<Vec<Identity>>;
    /// Links `identity`, recording `event` in the same transaction; `false` (and nothing
    /// recorded) when that provider's subject is linked already.
    async fn link_identity(&self, identity: &Identity, event: &SecurityEvent) -> StoreResult<bool>;
    /// Unlinks the identity `id` of `user_id`, recording `event`; `false` when it has none.
    async fn unlink_identity(&self, user_id: Uuid, id: Uuid, event: &SecurityEvent) -> StoreResult<bool>;
    /// Notes a sign-in through the identity `id` at `now`.
    async fn touch_identity(&self, id: Uuid, now: i64) -> StoreResult<()>;
}

/// A provider as sign-in pages and `GET /upstreams` offer it: never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedProvider {
    pub id: ProviderId,
    pub name: String,
    pub kind: ProviderKind,
    pub policy: AccountPolicy,
}

/// The way to a provider's authorization endpoint, and the secrets its answer must match
/// (kept server-side, in the sign-in flow).
#[derive(Debug, Clone)]
pub struct Departure {
    /// The provider's authorization URL, every parameter included.
    pub url: String,
    /// The nonce the ID token must carry (OpenID Connect kinds).
    pub nonce: Option<String>,
    /// The PKCE verifier of the `code_challenge` in `url`.
    pub pkce_verifier: String,
}

/// What came back to the callback, beyond the `state` the flow was found by.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub code: String,
    /// RFC 9207's `iss`, when the provider sent it.
    pub iss: Option<String>,
    /// Apple's `user` form field (the name, sent on the first sign-in only).
    pub user: Option<String>,
    /// The flow's secrets, from [`Departure`].
    pub nonce: Option<String>,
    pub pkce_verifier: String,
}

/// The configured upstream providers, and the round trip to each: the authorization URL
/// out, the code exchanged and the answer validated on the way back.
#[async_trait]
pub trait UpstreamProviders: Send + Sync {
    /// Every configured provider, in the configuration's order.
    fn offered(&self) -> &[OfferedProvider];
    /// The authorization URL of `provider` carrying `state` and answering at `redirect_uri`.
    async fn departure(
        &self,
        provider: &ProviderId,
        state: &str,
        redirect_uri: &str,
    ) -> Result<Departure, UpstreamRefusal>;
    /// Exchanges the code of `arrival` and validates the answer (signature, issuer,
    /// audience, times and nonce of the ID token; GitHub's API for the profile).
    async fn arrival(
        &self,
        provider: &ProviderId,
        arrival: Arrival,
        redirect_uri: &str,
    ) -> Result<UpstreamProfile, UpstreamRefusal>;
}
