//! Readiness: does every dependency answer within a deadline?

use std::sync::Arc;
use std::time::Duration;

use super::Ports;
use crate::actors::mfa::MfaMsg;
use crate::actors::notifications::NotificationMsg;
use crate::actors::revocation::RevocationMsg;
use crate::actors::sessions::SessionMsg;
use crate::actors::supervisor::ActorSlots;
use crate::ports::{RevocationBus, SessionStore};

/// How long each component gets to answer.
const DEADLINE: Duration = Duration::from_secs(2);

/// Asks the database, the bus and every actor whether they answer.
pub struct Readiness {
    database: Arc<dyn SessionStore>,
    bus: Arc<dyn RevocationBus>,
    actors: ActorSlots,
}

impl Readiness {
    pub fn new(ports: &Ports, actors: ActorSlots) -> Self {
        Self {
            database: ports.sessions.clone(),
            bus: ports.bus.clone(),
            actors,
        }
    }

    /// Names of the components that did not answer; empty when all is well.
    pub async fn unready_components(&self) -> Vec<&'static str> {
        let (database, bus, revocations, sessions, notifications, mfa) = tokio::join!(
            tokio::time::timeout(DEADLINE, self.database.ping()),
            tokio::time::timeout(DEADLINE, self.bus.ping()),
            tokio::time::timeout(DEADLINE, self.actors.revocations.call(RevocationMsg::Ping)),
            tokio::time::timeout(DEADLINE, self.actors.sessions.call(SessionMsg::Ping)),
            tokio::time::timeout(DEADLINE, self.actors.notifications.call(NotificationMsg::Ping)),
            tokio::time::timeout(DEADLINE, self.actors.mfa.call(MfaMsg::Ping)),
        );
        let mut failing = Vec::new();
        if !matches!(database, Ok(Ok(()))) {
            failing.push("database");
        }
        if !matches!(bus, Ok(Ok(()))) {
            failing.push("redis");
        }
        if !matches!(revocations, Ok(Ok(()))) {
            failing.push(self.actors.revocations.name());
        }
        if !matches!(sessions, Ok(Ok(()))) {
            failing.push(self.actors.sessions.name());
        }
        if !matches!(notifications, Ok(Ok(()))) {
            failing.push(self.actors.notifications.name());
        }
        if !matches!(mfa, Ok(Ok(()))) {
            failing.push(self.actors.mfa.name());
        }
        failing
    }
}
