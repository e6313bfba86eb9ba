//! Use cases: what the HTTP layer (and the CLI) can ask of the server. Each one validates
//! with the domain rules, talks to ports and actors, and returns domain results or errors.
//! [`Core`] holds the wired dependencies; its methods are spread over one file per capability.

pub mod accounts;
pub mod login;
pub mod mfa;
pub mod organizations;
pub mod password;
pub mod readiness;
pub mod sessions;
pub mod throttle;
pub mod tokens;

use std::sync::Arc;
use std::time::Duration;

use crate::actors::revocation::RevocationView;
use crate::actors::supervisor::ActorSlots;
use crate::crypto::jwt::TokenSigner;
use crate::crypto::password::PasswordHasher;
use crate::crypto::secrets::Secrets;
use crate::domain::session::SessionPolicy;
use crate::notifications::Notifier;
use crate::ports::{
    Cache, Clock, MfaStore, OrganizationStore, PasswordResetStore, RevocationBus, SessionStore, UserStore,
};

/// Who may create accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SignupMode {
    /// Anyone may sign up.
    Open,
    /// Only administrators may create accounts.
    Admin,
}

/// How password resets behave.
#[derive(Debug, Clone)]
pub struct PasswordResetPolicy {
    /// How long a reset link works.
    pub ttl: Duration,
    /// Reset e-mails per address per `rate_window`.
    pub max_per_window: u64,
    pub rate_window: Duration,
    /// Base of the link in the e-mail.
    pub public_url: String,
}

/// Behaviour switches that come from configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub signup: SignupMode,
    pub sessions: SessionPolicy,
    pub password_reset: PasswordResetPolicy,
    /// Header naming the client address, set by a trusted proxy; `None`: the peer address.
    pub client_ip_header: Option<String>,
}

/// The wired dependencies every use case draws on.
#[derive(Clone)]
pub struct Core {
    pub users: Arc<dyn UserStore>,
    pub session_store: Arc<dyn SessionStore>,
    pub organizations: Arc<dyn OrganizationStore>,
    pub mfa: Arc<dyn MfaStore>,
    pub password_resets: Arc<dyn PasswordResetStore>,
    pub notifier: Arc<Notifier>,
    pub secrets: Secrets,
    pub bus: Arc<dyn RevocationBus>,
    pub cache: Arc<dyn Cache>,
    pub hasher: PasswordHasher,
    pub signer: Arc<TokenSigner>,
    pub clock: Arc<dyn Clock>,
    pub revoked: RevocationView,
    pub actors: ActorSlots,
    pub throttle: throttle::Throttle,
    pub settings: Settings,
}
