//! Ports: the traits the core needs from the outside world. Adapters in `storage` implement
//! them; `app` picks the adapters; tests may swap any of them.

use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::domain::organization::{Membership, Organization, Role};
use crate::domain::revocation::Revocation;
use crate::domain::session::{Session, TokenGrant};
use crate::domain::user::User;
use crate::domain::AuthError;

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken; names the rule (e.g. `"email"`).
    #[error("conflict on {0}")]
    Conflict(&'static str),
    /// The backend could not be reached or failed.
    #[error("{component} failed: {reason}")]
    Unavailable { component: &'static str, reason: String },
}

impl From<StoreError> for AuthError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict("email") => AuthError::EmailTaken,
            StoreError::Conflict("membership") => AuthError::AlreadyMember,
            StoreError::Conflict(_) => AuthError::Unavailable("database"),
            StoreError::Unavailable { component, reason } => {
                tracing::error!(component, %reason, "dependency failed");
                AuthError::Unavailable(component)
            }
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Fields of a profile update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// Durable accounts.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Fails with `Conflict("email")` when the normalized email is taken.
    async fn insert_user(&self, user: &User) -> StoreResult<()>;
    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<User>>;
    /// Looks up by the lower-cased email.
    async fn user_by_email(&self, normalized_email: &str) -> StoreResult<Option<User>>;
    /// Returns false when the user does not exist.
    async fn update_profile(&self, id: Uuid, update: &ProfileUpdate) -> StoreResult<bool>;
    /// Users in id order (ids are time-ordered), after `after` when given.
    async fn list_users(&self, after: Option<Uuid>, limit: u32) -> StoreResult<Vec<User>>;
}

/// Durable sessions and the revocation log every instance catches up from.
#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn insert_session(&self, session: &Session) -> StoreResult<()>;
    async fn session_by_id(&self, id: Uuid) -> StoreResult<Option<Session>>;
    /// Atomically replaces the current token `from_jti` by `next` and logs the revocation of
    /// the old token. Returns false when `from_jti` was no longer current (another rotation won).
    async fn rotate_session(
        &self,
        id: Uuid,
        from_jti: Uuid,
        next: &TokenGrant,
        old_token: Revocation,
        now: i64,
    ) -> StoreResult<bool>;
    /// Marks the session revoked and logs it. Returns false if it was already revoked.
    async fn revoke_session(&self, id: Uuid, revocation: Revocation, now: i64) -> StoreResult<bool>;
    /// Revokes every live session of a user; returns the revocations made.
    async fn revoke_user_sessions(&self, user_id: Uuid, until: i64, now: i64) -> StoreResult<Vec<Revocation>>;
    /// Revocations logged at or after `since` that still matter at `now`.
    async fn revocations_since(&self, since: i64, now: i64) -> StoreResult<Vec<Revocation>>;
    /// Cheap round trip for readiness.
    async fn ping(&self) -> StoreResult<()>;
}

/// How an organization update ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganizationUpdate {
    Updated,
    UnknownOrganization,
    UnknownParent,
    /// The new parent is the organization or one of its descendants; nothing was changed.
    WouldCycle,
}

/// Who asks to remove a member, for the rule checked inside the removal's transaction.
#[derive(Debug, Clone, Copy)]
pub struct RemovalRequester {
    pub role: Option<Role>,
    pub is_system_admin: bool,
}

/// Durable organizations and memberships.
#[async_trait]
pub trait OrganizationStore: Send + Sync {
    /// Creates the organization with its first owner.
    async fn insert_organization(&self, organization: &Organization, owner: &Membership) -> StoreResult<()>;
    async fn organization(&self, id: Uuid) -> StoreResult<Option<Organization>>;
    async fn members(&self, organization_id: Uuid) -> StoreResult<Vec<Membership>>;
    async fn role_of(&self, organization_id: Uuid, user_id: Uuid) -> StoreResult<Option<Role>>;
    /// Fails with `Conflict("membership")` when the user already belongs to it.
    async fn add_member(&self, membership: &Membership) -> StoreResult<()>;
    /// Renames and/or moves (`Some(None)` makes it a root) in one transaction; moves are
    /// serialized and checked against the hierarchy as committed, so no cycle can form.
    async fn update_organization(
        &self,
        id: Uuid,
        name: Option<&str>,
        parent: Option<Option<Uuid>>,
    ) -> StoreResult<OrganizationUpdate>;
    /// Removes a member if [`crate::domain::organization::check_member_removal`] allows it,
    /// counting owners inside the transaction. The inner error is the refusal.
    async fn remove_member(
        &self,
        organization_id: Uuid,
        user_id: Uuid,
        requester: RemovalRequester,
    ) -> StoreResult<Result<(), AuthError>>;
    /// The user's organizations with their role in each.
    async fn organizations_of(&self, user_id: Uuid) -> StoreResult<Vec<(Organization, Role)>>;
}

/// Spreads revocations to the other instances (Redis pub/sub), best effort: the database log
/// remains the source of truth, so a lost message only delays, never loses, a revocation.
#[async_trait]
pub trait RevocationBus: Send + Sync {
    async fn publish(&self, revocation: &Revocation) -> StoreResult<()>;
    /// Delivers revocations published by any instance (including this one) into `sink`
    /// until the sink closes.
    async fn listen(&self, sink: mpsc::Sender<Revocation>) -> StoreResult<()>;
    async fn ping(&self) -> StoreResult<()>;
}

/// Counters of failed attempts in a sliding-ish fixed window, shared by all instances
/// when backed by Redis.
#[async_trait]
pub trait AttemptCounter: Send + Sync {
    /// Current failures for `key`, and how long until the window ends.
    async fn failures(&self, key: &str) -> StoreResult<(u64, Duration)>;
    /// Adds a failure; the window starts at the first failure and lasts `window`.
    async fn record_failure(&self, key: &str, window: Duration) -> StoreResult<u64>;
    async fn clear(&self, key: &str) -> StoreResult<()>;
}

/// The current time, as a port so rules can be tested at any instant.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;

    fn unix_now(&self) -> i64 {
        self.now().unix_timestamp()
    }
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}
