//! Durable state of the OpenID Connect provider: the registered clients.

use async_trait::async_trait;

use super::StoreResult;
use crate::domain::oauth::Client;

/// Registered OAuth clients.
#[async_trait]
pub trait ClientStore: Send + Sync {
    async fn insert_client(&self, client: &Client) -> StoreResult<()>;
    async fn client(&self, client_id: &str) -> StoreResult<Option<Client>>;
    /// Every client, oldest first.
    async fn clients(&self) -> StoreResult<Vec<Client>>;
    /// Removes the client; `false` when there was none.
    async fn delete_client(&self, client_id: &str) -> StoreResult<bool>;
}
