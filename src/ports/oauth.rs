//! Durable state of the OpenID Connect provider: the registered clients and the
//! authorization codes.

use async_trait::async_trait;
use uuid::Uuid;

use super::StoreResult;
use crate::domain::oauth::Client;
use crate::domain::oidc::{AuthorizationCode, Redemption};

/// Registered OAuth clients.
#[async_trait]
pub trait ClientStore: Send + Sync {
    async fn insert_client(&self, client: &Client) -> StoreResult<()>;
    async fn client(&self, client_id: &str) -> StoreResult<Option<Client>>;
    /// The client that registered `resource` as its API's URI.
    async fn client_by_resource(&self, resource: &str) -> StoreResult<Option<Client>>;
    /// Every client, oldest first.
    async fn clients(&self) -> StoreResult<Vec<Client>>;
    /// Removes the client; `false` when there was none.
    async fn delete_client(&self, client_id: &str) -> StoreResult<bool>;
}

/// Authorization codes, by keyed digest: each redeemed once.
#[async_trait]
pub trait CodeStore: Send + Sync {
    async fn insert_code(&self, code: &AuthorizationCode) -> StoreResult<()>;
    /// Uses the code with this digest at `now`, atomically: the first redemption of an
    /// unexpired code gets it, any later one learns it was reused.
    async fn redeem_code(&self, digest: &str, now: i64) -> StoreResult<Redemption>;
    /// Records the session a redemption opened, for a reuse to revoke.
    async fn record_issued_session(&self, digest: &str, session_id: Uuid) -> StoreResult<()>;
}

/// A consent as the account page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub client_id: String,
    pub client_name: String,
    /// Space-separated.
    pub scope: String,
    pub granted_at: i64,
}

/// What users allowed third-party clients.
#[async_trait]
pub trait ConsentStore: Send + Sync {
    /// The scopes `user_id` allowed `client_id`, if any.
    async fn consented_scope(&self, user_id: Uuid, client_id: &str) -> StoreResult<Option<String>>;
    /// Records (or replaces) a consent.
    async fn grant_consent(&self, user_id: Uuid, client_id: &str, scope: &str, now: i64) -> StoreResult<()>;
    /// Withdraws a consent; `false` when there was none.
    async fn withdraw_consent(&self, user_id: Uuid, client_id: &str) -> StoreResult<bool>;
    /// The user's consents, newest first.
    async fn consents_of(&self, user_id: Uuid) -> StoreResult<Vec<Consent>>;
}
