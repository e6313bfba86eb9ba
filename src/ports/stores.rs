//! Store ports: the durable state of the core. `storage::sql` implements every one for
//! SQLite and PostgreSQL.
//!
//! A method that changes an account takes the [`SecurityEvent`] recording the change and
//! writes it in the same transaction: an event is never lost when the change commits, nor
//! invented when it does not. Where the store discovers whose account changed (a reset or
//! verification hash), it fills in the event's `user_id`.

use async_trait::async_trait;
use uuid::Uuid;

use super::StoreResult;
use crate::domain::credential::Holder;
use crate::domain::events::{EventQuery, Origin, SecurityEvent};
use crate::domain::mfa::{Factor, PasskeyRegistration, StoredPasskey, Strategy};
use crate::domain::notification::DeliveryChannel;
use crate::domain::organization::{Membership, Organization, Role};
use crate::domain::profile::{Profile, ProfileUpdate};
use crate::domain::revocation::Revocation;
use crate::domain::session::{Session, SessionInfo, SignInHistory, TokenGrant};
use crate::domain::user::{Email, User};
use crate::domain::AuthError;
use crate::domain::Stamp;

/// Durable accounts.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Fails with `Conflict(UserEmail)` when the normalized email is taken.
    async fn insert_user(&self, user: &User, event: &SecurityEvent) -> StoreResult<()>;
    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<User>>;
    /// The user with their organizations and factors, in one read (the hottest route).
    async fn profile(&self, id: Uuid) -> StoreResult<Option<Profile>>;
    /// Looks up by the normalized email.
    async fn user_by_email(&self, email: &Email) -> StoreResult<Option<User>>;
    /// Returns false when the user does not exist; `Conflict(UserEmail)` when the new
    /// address is taken. A new address is unverified.
    async fn update_profile(&self, id: Uuid, update: &ProfileUpdate, event: &SecurityEvent) -> StoreResult<bool>;
    async fn set_password_hash(&self, id: Uuid, password_hash: &str, event: &SecurityEvent) -> StoreResult<()>;
    /// Disables (or enables again) the account; false when it does not exist.
    async fn set_disabled(&self, id: Uuid, disabled: bool, now: i64, event: &SecurityEvent) -> StoreResult<bool>;
    /// Deletes the account and everything held about it (sessions, factors, codes,
    /// memberships, links, messages, events; organizations left without members) unless it
    /// is the last owner of an organization with other members (`Err(SoleOwner)` inside).
    /// Logs the revocation of its live sessions, until `until`, and returns them.
    async fn delete_user(
        &self,
        id: Uuid,
        until: i64,
        now: i64,
        event: &SecurityEvent,
    ) -> StoreResult<Result<Vec<Revocation>, AuthError>>;
    /// Users in id order (ids are time-ordered), after `after` when given.
    async fn list_users(&self, after: Option<Uuid>, limit: u32) -> StoreResult<Vec<User>>;
}

/// Durable sessions and the revocation log every instance catches up from.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session opened from `origin`.
    async fn insert_session(&self, session: &Session, origin: &Origin, event: &SecurityEvent) -> StoreResult<()>;
    /// The user's sessions that are neither revoked nor past their end, newest first.
    async fn live_sessions(&self, user_id: Uuid, now: i64) -> StoreResult<Vec<SessionInfo>>;
    /// The user's earlier sign-ins, as far as the new-device notice needs them.
    async fn sign_in_history(&self, user_id: Uuid, user_agent: Option<&str>, since: i64) -> StoreResult<SignInHistory>;
    /// Records that the live session `id` confirmed its holder at `now`; false when it is
    /// gone, revoked or over.
    async fn confirm_session(&self, id: Uuid, now: i64) -> StoreResult<bool>;
    /// A session with the user it belongs to, in one read: a refresh answers with both.
    async fn session_with_holder(&self, id: Uuid) -> StoreResult<Option<(Session, Holder)>>;
    /// Atomically replaces the current token `from_jti` by `next`; the session row is then
    /// the record that every earlier token is rotated away. Returns false when `from_jti`
    /// was no longer current (another rotation won) or the session is revoked.
    async fn rotate_session(&self, id: Uuid, from_jti: Uuid, next: &TokenGrant, now: i64) -> StoreResult<bool>;
    /// A refresh's fast path, one write: when `from_jti` is the live session's
    /// current token, replaces it by `next` (its expiry capped at the session's end) and
    /// returns the session as it now is, with its holder; `None` otherwise, and then the
    /// caller reads the session and decides (grace, reuse, rejection).
    async fn rotate_if_current(
        &self,
        id: Uuid,
        from_jti: Uuid,
        next: &TokenGrant,
        now: i64,
    ) -> StoreResult<Option<(Session, Holder)>>;
    /// Marks the session revoked and logs it, with `event` when it is the first
    /// revocation. Returns false if it was already revoked.
    async fn revoke_session(
        &self,
        id: Uuid,
        revocation: Revocation,
        now: i64,
        event: Option<&SecurityEvent>,
    ) -> StoreResult<bool>;
    /// Revokes every live session of a user but `except`; returns the revocations made.
    async fn revoke_user_sessions(
        &self,
        user_id: Uuid,
        except: Option<Uuid>,
        until: i64,
        now: i64,
        event: Option<&SecurityEvent>,
    ) -> StoreResult<Vec<Revocation>>;
    /// The live sessions an OpenID Connect client holds (for one user, when named).
    async fn client_sessions(&self, client_id: &str, user_id: Option<Uuid>, now: i64) -> StoreResult<Vec<Uuid>>;
    /// Revocations logged at or after `since` that still matter at `now`, and the current
    /// token of each session rotated since then (as [`RevokedSubject::Superseded`]).
    ///
    /// [`RevokedSubject::Superseded`]: crate::domain::revocation::RevokedSubject::Superseded
    async fn revocations_since(&self, since: i64, now: i64) -> StoreResult<Vec<Revocation>>;
    /// Deletes logged revocations that no longer matter at `now`; returns how many.
    async fn prune_revocations(&self, now: i64) -> StoreResult<u64>;
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
    /// Fails with `Conflict(Membership)` when the user already belongs to it.
    async fn add_member(&self, membership: &Membership, event: &SecurityEvent) -> StoreResult<()>;
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
        event: &SecurityEvent,
    ) -> StoreResult<Result<(), AuthError>>;
    /// The user's organizations with their role in each.
    async fn organizations_of(&self, user_id: Uuid) -> StoreResult<Vec<(Organization, Role)>>;
}

/// Durable MFA factors and recovery codes.
#[async_trait]
pub trait MfaStore: Send + Sync {
    /// Stores a not-yet-validated factor, replacing a pending one of the same strategy;
    /// fails with `Conflict(FactorPerStrategy)` when a validated one exists.
    async fn insert_pending_factor(&self, factor: &Factor) -> StoreResult<()>;
    async fn factors_of(&self, user_id: Uuid) -> StoreResult<Vec<Factor>>;
    async fn factor(&self, id: Uuid) -> StoreResult<Option<Factor>>;
    /// Counts one validation attempt of a pending factor and returns the count so far.
    async fn count_validation_attempt(&self, id: Uuid) -> StoreResult<u64>;
    /// Enables the factor and forgets its enrolment code.
    async fn enable_factor(&self, id: Uuid, event: &SecurityEvent) -> StoreResult<bool>;
    /// Deletes one of the user's factors; false when the user has no such factor.
    async fn delete_factor(&self, user_id: Uuid, id: Uuid, event: &SecurityEvent) -> StoreResult<bool>;
    /// Disables the user's factor of `strategy` until it is validated again.
    async fn disable_factor(&self, user_id: Uuid, strategy: Strategy) -> StoreResult<()>;
    /// Records TOTP `step` as used if it is later than any before; false means a replay.
    async fn claim_totp_step(&self, factor_id: Uuid, step: i64) -> StoreResult<bool>;
    /// Replaces the user's recovery codes by these (id, digest) pairs.
    async fn replace_recovery_codes(
        &self,
        user_id: Uuid,
        codes: &[(Uuid, String)],
        now: i64,
        event: &SecurityEvent,
    ) -> StoreResult<()>;
    async fn has_recovery_codes(&self, user_id: Uuid) -> StoreResult<bool>;
    /// Marks the unused code with this digest used; false when there is none.
    async fn use_recovery_code(&self, user_id: Uuid, digest: &str, now: i64) -> StoreResult<bool>;
}

/// Durable passkeys. They are listed among the factors of [`MfaStore::factors_of`] (strategy
/// PASSKEY) and removed by [`MfaStore::delete_factor`] like any factor.
#[async_trait]
pub trait PasskeyStore: Send + Sync {
    /// Records a registration that waits for its answer, dropping the user's expired ones.
    async fn insert_registration(&self, registration: &PasskeyRegistration) -> StoreResult<()>;
    /// Ends a registration whose answer was refused (its challenge is used up).
    async fn end_registration(&self, id: Uuid) -> StoreResult<()>;
    /// Stores the passkey that answers the registration of the same id, ending that
    /// registration, with `event`; `false` (nothing stored) when the registration was
    /// withdrawn. Fails with `Conflict(PasskeyCredential)` when the credential is
    /// registered already.
    async fn insert_passkey(&self, passkey: &StoredPasskey, event: &SecurityEvent) -> StoreResult<bool>;
    async fn passkeys_of(&self, user_id: Uuid) -> StoreResult<Vec<StoredPasskey>>;
    /// Records a successful use: the verifier's updated record.
    async fn passkey_used(&self, id: Uuid, passkey: &str, now: i64) -> StoreResult<()>;
    /// Disables a passkey whose counter went backwards, writing `event` with it.
    async fn disable_passkey(&self, id: Uuid, event: &SecurityEvent) -> StoreResult<()>;
}

/// Durable password reset requests, by keyed digest of their hash.
#[async_trait]
pub trait PasswordResetStore: Send + Sync {
    /// Records a reset for the user (its row named and timed by `stamp`), voiding their
    /// older pending ones.
    async fn insert_reset(&self, user_id: Uuid, hash_digest: &str, expires_at: i64, stamp: Stamp) -> StoreResult<()>;
    /// The user of a pending (unused, unexpired) reset.
    async fn pending_reset_user(&self, hash_digest: &str, now: i64) -> StoreResult<Option<Uuid>>;
    /// Uses the pending reset and sets the user's password, in one transaction; returns the
    /// user, or `None` when the reset was no longer pending.
    async fn complete_reset(
        &self,
        hash_digest: &str,
        password_hash: &str,
        now: i64,
        event: &SecurityEvent,
    ) -> StoreResult<Option<Uuid>>;
}

/// Durable e-mail verification links, by keyed digest of their hash.
#[async_trait]
pub trait VerificationStore: Send + Sync {
    /// Records a link for the user's current `email` (its row named and timed by `stamp`),
    /// voiding their older ones.
    async fn insert_verification(
        &self,
        user_id: Uuid,
        email: &Email,
        hash_digest: &str,
        expires_at: i64,
        stamp: Stamp,
    ) -> StoreResult<()>;
    /// Uses the pending link and marks the address verified, in one transaction, if the
    /// account's address is still the one the link was sent to; returns the user, or
    /// `None` when the link was unknown, used, expired or for an older address.
    async fn complete_verification(
        &self,
        hash_digest: &str,
        now: i64,
        event: &SecurityEvent,
    ) -> StoreResult<Option<Uuid>>;
}

/// Reading and pruning the durable audit log (events are written with their change, or
/// through [`crate::ports::SecurityEvents`] when there is none).
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Events matching `query`, newest first.
    async fn events(&self, query: &EventQuery) -> StoreResult<Vec<SecurityEvent>>;
    /// Deletes events older than `before` (Unix seconds); returns how many.
    async fn prune_events(&self, before: i64) -> StoreResult<u64>;
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
