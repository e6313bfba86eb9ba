//! Test-only faults (cargo feature `fault-injection`): make a supervised actor panic or
//! stall on purpose, so tests can prove that the supervisor restarts it, that the restart
//! shows in metrics, and that callers get a 503 instead of waiting forever. Release builds
//! leave this module out.

use std::time::Duration;

use super::mfa::MfaMsg;
use super::notifications::NotificationMsg;
use super::revocation::RevocationMsg;
use super::sessions::SessionMsg;
use super::supervisor::ActorSlots;
use crate::domain::AuthError;

/// What an actor does with an injected fault.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Panic inside the message handler.
    Panic,
    /// Hold the actor's loop for this long.
    Stall(Duration),
}

impl Fault {
    pub async fn strike(self) {
        match self {
            Fault::Panic => panic!("injected fault"),
            Fault::Stall(time) => tokio::time::sleep(time).await,
        }
    }
}

impl ActorSlots {
    /// Sends `fault` to the actor with this metrics label (`sessions`, `revocations`,
    /// `notifications`, `mfa`).
    pub fn inject(&self, actor: &str, fault: Fault) -> Result<(), AuthError> {
        match actor {
            "sessions" => self.sessions.cast(SessionMsg::Inject(fault)),
            "revocations" => self.revocations.cast(RevocationMsg::Inject(fault)),
            "notifications" => self.notifications.cast(NotificationMsg::Inject(fault)),
            "mfa" => self.mfa.cast(MfaMsg::Inject(fault)),
            _ => Err(AuthError::NotFound("actor")),
        }
    }
}
