//! Identities at upstream providers linked to accounts (`domain/upstream.rs`).

use async_trait::async_trait;
use uuid::Uuid;

use super::StoreResult;
use crate::domain::events::SecurityEvent;
use crate::domain::upstream::{Identity, ProviderId};

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
