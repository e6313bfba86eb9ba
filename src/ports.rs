//! Ports: the traits the core needs from the outside world. Adapters in `storage` implement
//! them; `app` picks the adapters; tests may swap any of them.

use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::domain::mfa::{Factor, Strategy};
use crate::domain::notification::{DeliveryChannel, DeliveryError, OutgoingMessage};
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
            StoreError::Conflict("factor") => AuthError::FactorExists,
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
/// A user with their organizations and factors: what `GET /user/me` shows.
#[derive(Debug, Clone)]
pub struct Profile {
    pub user: User,
    pub organizations: Vec<(Organization, Role)>,
    pub factors: Vec<Factor>,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Fails with `Conflict("email")` when the normalized email is taken.
    async fn insert_user(&self, user: &User) -> StoreResult<()>;
    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<User>>;
    /// The user with their organizations and factors, in one read (the hottest route).
    async fn profile(&self, id: Uuid) -> StoreResult<Option<Profile>>;
    /// Looks up by the lower-cased email.
    async fn user_by_email(&self, normalized_email: &str) -> StoreResult<Option<User>>;
    /// Returns false when the user does not exist.
    async fn update_profile(&self, id: Uuid, update: &ProfileUpdate) -> StoreResult<bool>;
    async fn set_password_hash(&self, id: Uuid, password_hash: &str) -> StoreResult<()>;
    /// Users in id order (ids are time-ordered), after `after` when given.
    async fn list_users(&self, after: Option<Uuid>, limit: u32) -> StoreResult<Vec<User>>;
}

/// Durable sessions and the revocation log every instance catches up from.
#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn insert_session(&self, session: &Session) -> StoreResult<()>;
    /// A session with the user it belongs to, in one read: a refresh answers with both.
    async fn session_with_holder(&self, id: Uuid) -> StoreResult<Option<(Session, User)>>;
    /// Atomically replaces the current token `from_jti` by `next` and logs the revocation of
    /// the old token until its expiry. Returns false when `from_jti` was no longer current
    /// (another rotation won) or the session is revoked.
    async fn rotate_session(&self, id: Uuid, from_jti: Uuid, next: &TokenGrant, now: i64) -> StoreResult<bool>;
    /// Marks the session revoked and logs it. Returns false if it was already revoked.
    async fn revoke_session(&self, id: Uuid, revocation: Revocation, now: i64) -> StoreResult<bool>;
    /// Revokes every live session of a user but `except`; returns the revocations made.
    async fn revoke_user_sessions(
        &self,
        user_id: Uuid,
        except: Option<Uuid>,
        until: i64,
        now: i64,
    ) -> StoreResult<Vec<Revocation>>;
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

/// Durable MFA factors and recovery codes.
#[async_trait]
pub trait MfaStore: Send + Sync {
    /// Stores a not-yet-validated factor, replacing a pending one of the same strategy;
    /// fails with `Conflict("factor")` when a validated one exists.
    async fn insert_pending_factor(&self, factor: &Factor) -> StoreResult<()>;
    async fn factors_of(&self, user_id: Uuid) -> StoreResult<Vec<Factor>>;
    async fn factor(&self, id: Uuid) -> StoreResult<Option<Factor>>;
    /// Counts one validation attempt of a pending factor and returns the count so far.
    async fn count_validation_attempt(&self, id: Uuid) -> StoreResult<u64>;
    /// Enables the factor and forgets its enrolment code.
    async fn enable_factor(&self, id: Uuid) -> StoreResult<bool>;
    /// Deletes one of the user's factors; false when the user has no such factor.
    async fn delete_factor(&self, user_id: Uuid, id: Uuid) -> StoreResult<bool>;
    /// Disables the user's factor of `strategy` until it is validated again.
    async fn disable_factor(&self, user_id: Uuid, strategy: Strategy) -> StoreResult<()>;
    /// Records TOTP `step` as used if it is later than any before; false means a replay.
    async fn claim_totp_step(&self, factor_id: Uuid, step: i64) -> StoreResult<bool>;
    /// Replaces the user's recovery codes by these digests.
    async fn replace_recovery_codes(&self, user_id: Uuid, digests: &[String], now: i64) -> StoreResult<()>;
    async fn has_recovery_codes(&self, user_id: Uuid) -> StoreResult<bool>;
    /// Marks the unused code with this digest used; false when there is none.
    async fn use_recovery_code(&self, user_id: Uuid, digest: &str, now: i64) -> StoreResult<bool>;
}

/// Durable password reset requests, by keyed digest of their hash.
#[async_trait]
pub trait PasswordResetStore: Send + Sync {
    /// Records a reset for the user, voiding their older pending ones.
    async fn insert_reset(&self, user_id: Uuid, hash_digest: &str, expires_at: i64, now: i64) -> StoreResult<()>;
    /// The user of a pending (unused, unexpired) reset.
    async fn pending_reset_user(&self, hash_digest: &str, now: i64) -> StoreResult<Option<Uuid>>;
    /// Uses the pending reset and sets the user's password, in one transaction; returns the
    /// user, or `None` when the reset was no longer pending.
    async fn complete_reset(&self, hash_digest: &str, password_hash: &str, now: i64) -> StoreResult<Option<Uuid>>;
}

/// A message in the outbox, as claimed for delivery.
#[derive(Debug, Clone)]
pub struct QueuedMessage {
    pub id: Uuid,
    pub channel: DeliveryChannel,
    pub recipient: String,
    /// The encrypted [`OutgoingMessage`].
    pub payload_ciphertext: String,
    pub attempts: u32,
}

/// The durable outbox of messages to deliver. Times are Unix milliseconds.
#[async_trait]
pub trait Outbox: Send + Sync {
    async fn enqueue(&self, message: &QueuedMessage, now_ms: i64) -> StoreResult<()>;
    /// Leases up to `limit` due messages until `lease_until_ms`; a lease that lapses (a
    /// crashed instance) makes the message due again.
    async fn claim_due(&self, now_ms: i64, lease_until_ms: i64, limit: u32) -> StoreResult<Vec<QueuedMessage>>;
    /// Delivered: erases the payload.
    async fn mark_sent(&self, id: Uuid, now_ms: i64) -> StoreResult<()>;
    async fn mark_retry(&self, id: Uuid, next_attempt_at_ms: i64, error: &str) -> StoreResult<()>;
    /// Given up: erases the payload and keeps the reason.
    async fn mark_failed(&self, id: Uuid, now_ms: i64, error: &str) -> StoreResult<()>;
    /// The status (`pending`, `sent`, `failed`) and attempts of a message.
    async fn message_status(&self, id: Uuid) -> StoreResult<Option<(String, u32)>>;
}

/// Delivers one message over its channel (SMTP, Twilio, or the development outbox folder).
#[async_trait]
pub trait MessageSender: Send + Sync {
    async fn send(&self, message: &OutgoingMessage) -> Result<(), DeliveryError>;
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

/// Short-lived shared state: attempt counters, MFA challenges. Backed by Redis when
/// configured, so every instance sees the same values; in-process otherwise.
#[async_trait]
pub trait Cache: Send + Sync {
    /// Adds one to the counter at `key`, returning the new value; a new counter lives `window`.
    async fn incr(&self, key: &str, window: Duration) -> StoreResult<u64>;
    /// The counter at `key` (0 when absent) and how long it still lives.
    async fn counter(&self, key: &str) -> StoreResult<(u64, Duration)>;
    /// Takes one off the counter at `key` if it still lives (an attempt given back); an
    /// absent counter stays absent.
    async fn decr(&self, key: &str) -> StoreResult<()>;
    /// Sets `key` only when it is absent; returns `None` when set, or how long the
    /// existing value still lives. Of concurrent callers, only one sets it.
    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> StoreResult<Option<Duration>>;
    /// How long the value at `key` still lives; `None` when absent.
    async fn ttl(&self, key: &str) -> StoreResult<Option<Duration>>;
    async fn put(&self, key: &str, value: &str, ttl: Duration) -> StoreResult<()>;
    async fn get(&self, key: &str) -> StoreResult<Option<String>>;
    /// Removes and returns the value at `key`: of concurrent callers, only one gets it.
    async fn take(&self, key: &str) -> StoreResult<Option<String>>;
    async fn delete(&self, key: &str) -> StoreResult<()>;
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
