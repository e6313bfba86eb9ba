//! Readiness: does every dependency answer within a deadline?

use std::time::Duration;

use super::Core;
use crate::actors::mfa::MfaMsg;
use crate::actors::notifications::NotificationMsg;
use crate::actors::revocation::RevocationMsg;
use crate::actors::sessions::SessionMsg;

/// How long each component gets to answer.
const DEADLINE: Duration = Duration::from_secs(2);

impl Core {
    /// Names of the components that did not answer; empty when all is well.
    pub async fn unready_components(&self) -> Vec<&'static str> {
        let (database, bus, revocations, sessions, notifications, mfa) = tokio::join!(
            tokio::time::timeout(DEADLINE, self.session_store.ping()),
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
