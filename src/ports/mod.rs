//! Ports: the traits the core needs from the outside world, and the one storage error.
//! Adapters (`storage`, `crypto`, `notifications`, `telemetry`) implement them; `app` picks
//! the adapters; use cases hold only the ports they call; tests may swap any of them.
//!
//! - [`stores`]: durable state (users, sessions, organizations, factors, resets, e-mail
//!   verification, the audit log, the outbox).
//! - [`exchange`]: what instances share at run time (cache, revocation bus).
//! - [`clock`]: the time and time-ordered ids (`SystemClock`, and `ManualClock` for tests).
//! - [`crypto`]: password hashing, token signing, the data key, fresh secrets and TOTP.
//! - [`outbound`]: messages to users and security events.
//! - [`oauth`]: the OpenID Connect provider's clients.
//! - [`identities`]: upstream providers, and the identities at them linked to accounts.

pub mod clock;
pub mod crypto;
pub mod exchange;
pub mod identities;
pub mod oauth;
pub mod outbound;
pub mod stores;

pub use clock::{Clock, ManualClock, SystemClock};
pub use crypto::{
    BreachedPasswords, DataKey, IdTokenSigning, NewPasskey, OneTimeSecrets, PasskeyCeremonies, PasskeyRefusal,
    PasswordHashing, TokenSigning,
};
pub use exchange::{Cache, MessageSender, RevocationBus};
pub use identities::{Arrival, Departure, IdentityStore, OfferedProvider, UpstreamProviders};
pub use oauth::{ClientStore, CodeStore, Consent, ConsentStore};
pub use outbound::{EventFanOut, Messages, SecurityEvents};
pub use stores::{
    EventLog, MfaStore, OrganizationStore, OrganizationUpdate, Outbox, PasskeyStore, PasswordResetStore, QueuedMessage,
    RemovalRequester, SessionStore, UserStore, VerificationStore,
};

use crate::domain::AuthError;

/// A uniqueness rule of the schema, named where the query that can break it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    /// `users.email_normalized` is unique: one account per address, whatever its case.
    UserEmail,
    /// `memberships (organization_id, user_id)` is unique.
    Membership,
    /// One validated factor per user and strategy.
    FactorPerStrategy,
    /// A passkey's credential id is registered once, to one account.
    PasskeyCredential,
    /// A resource (API) URI is registered by one client.
    ResourceTaken,
}

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken.
    #[error("conflict on {0:?}")]
    Conflict(Constraint),
    /// The backend could not be reached or failed.
    #[error("{component} failed: {reason}")]
    Unavailable { component: &'static str, reason: String },
}

impl From<StoreError> for AuthError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(Constraint::UserEmail) => AuthError::EmailTaken,
            StoreError::Conflict(Constraint::Membership) => AuthError::AlreadyMember,
            StoreError::Conflict(Constraint::ResourceTaken) => AuthError::ResourceTaken,
            StoreError::Conflict(Constraint::FactorPerStrategy | Constraint::PasskeyCredential) => {
                AuthError::FactorExists
            }
            StoreError::Unavailable { component, reason } => {
                tracing::error!(component, %reason, "dependency failed");
                AuthError::Unavailable(component)
            }
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
