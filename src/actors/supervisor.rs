//! The root supervisor: starts the actors, and restarts any that fails, pointing its
//! [`ActorSlot`] at the new instance so callers never hold a dead reference.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};

use super::mfa::{MfaActor, MfaMsg, MfaSteps};
use super::notifications::{NotificationActor, NotificationArgs, NotificationMsg};
use super::revocation::{RevocationActor, RevocationArgs, RevocationMsg};
use super::sessions::{SessionActor, SessionLifecycle, SessionMsg};
use super::ActorSlot;
use crate::telemetry::metrics as telemetry_metrics;

/// Handles to every supervised actor; cheap to clone.
#[derive(Clone)]
pub struct ActorSlots {
    pub revocations: ActorSlot<RevocationMsg>,
    pub sessions: ActorSlot<SessionMsg>,
    pub notifications: ActorSlot<NotificationMsg>,
    pub mfa: ActorSlot<MfaMsg>,
    /// Restarts so far, for operators.
    pub restarts: Arc<AtomicU64>,
}

impl ActorSlots {
    pub fn new() -> Self {
        Self {
            revocations: ActorSlot::new("revocation actor", "revocations"),
            sessions: ActorSlot::new("session actor", "sessions"),
            notifications: ActorSlot::new("notification actor", "notifications"),
            mfa: ActorSlot::new("mfa challenge actor", "mfa"),
            restarts: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl Default for ActorSlots {
    fn default() -> Self {
        Self::new()
    }
}

/// What the supervisor needs to (re)start each child.
#[derive(Clone)]
pub struct SupervisorArgs {
    pub slots: ActorSlots,
    pub revocation: RevocationArgs,
    pub sessions: Arc<dyn SessionLifecycle>,
    pub notifications: NotificationArgs,
    /// The MFA steps; `None` leaves the MFA challenge actor out (tests of the others).
    pub mfa: Option<Arc<dyn MfaSteps>>,
}

pub struct Supervisor;

impl Supervisor {
    async fn start_revocations(myself: &ActorRef<()>, args: &SupervisorArgs) -> Result<(), ActorProcessingErr> {
        let (actor, _) = Actor::spawn_linked(None, RevocationActor, args.revocation.clone(), myself.get_cell()).await?;
        args.slots.revocations.fill(actor);
        Ok(())
    }

    async fn start_notifications(myself: &ActorRef<()>, args: &SupervisorArgs) -> Result<(), ActorProcessingErr> {
        let (actor, _) =
            Actor::spawn_linked(None, NotificationActor, args.notifications.clone(), myself.get_cell()).await?;
        args.slots.notifications.fill(actor);
        Ok(())
    }

    async fn start_mfa(myself: &ActorRef<()>, args: &SupervisorArgs) -> Result<(), ActorProcessingErr> {
        if let Some(steps) = &args.mfa {
            let (actor, _) = Actor::spawn_linked(None, MfaActor, steps.clone(), myself.get_cell()).await?;
            args.slots.mfa.fill(actor);
        }
        Ok(())
    }

    async fn start_sessions(myself: &ActorRef<()>, args: &SupervisorArgs) -> Result<(), ActorProcessingErr> {
        let (actor, _) = Actor::spawn_linked(None, SessionActor, args.sessions.clone(), myself.get_cell()).await?;
        args.slots.sessions.fill(actor);
        Ok(())
    }
}

impl Actor for Supervisor {
    type Msg = ();
    type State = SupervisorArgs;
    type Arguments = SupervisorArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<()>,
        args: SupervisorArgs,
    ) -> Result<SupervisorArgs, ActorProcessingErr> {
        Self::start_revocations(&myself, &args).await?;
        Self::start_sessions(&myself, &args).await?;
        Self::start_notifications(&myself, &args).await?;
        Self::start_mfa(&myself, &args).await?;
        Ok(args)
    }

    async fn post_stop(&self, _myself: ActorRef<()>, state: &mut SupervisorArgs) -> Result<(), ActorProcessingErr> {
        if let Some(actor) = state.slots.sessions.take() {
            actor.stop(None);
        }
        if let Some(actor) = state.slots.notifications.take() {
            actor.stop(None);
        }
        if let Some(actor) = state.slots.mfa.take() {
            actor.stop(None);
        }
        if let Some(actor) = state.slots.revocations.take() {
            actor.stop(None);
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<()>,
        event: SupervisionEvent,
        state: &mut SupervisorArgs,
    ) -> Result<(), ActorProcessingErr> {
        // Children only stop when the supervisor stops them (after emptying their slot), so
        // any other end, a panic or a kill, is a failure to recover from.
        let (cell, reason, failed) = match event {
            SupervisionEvent::ActorFailed(cell, err) => (cell, err.to_string(), true),
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                (cell, reason.unwrap_or_else(|| "stopped".into()), false)
            }
            _ => return Ok(()),
        };
        if state.slots.revocations.holds(&cell) {
            tracing::error!(%reason, "revocation actor failed; restarting it");
            state.slots.restarts.fetch_add(1, Ordering::Relaxed);
            record_restart(state.slots.revocations.label(), failed);
            Self::start_revocations(&myself, state).await?;
        } else if state.slots.notifications.holds(&cell) {
            tracing::error!(%reason, "notification actor failed; restarting it");
            state.slots.restarts.fetch_add(1, Ordering::Relaxed);
            record_restart(state.slots.notifications.label(), failed);
            Self::start_notifications(&myself, state).await?;
        } else if state.slots.mfa.holds(&cell) {
            tracing::error!(%reason, "mfa challenge actor failed; restarting it");
            state.slots.restarts.fetch_add(1, Ordering::Relaxed);
            record_restart(state.slots.mfa.label(), failed);
            Self::start_mfa(&myself, state).await?;
        } else if state.slots.sessions.holds(&cell) {
            tracing::error!(%reason, "session actor failed; restarting it");
            state.slots.restarts.fetch_add(1, Ordering::Relaxed);
            record_restart(state.slots.sessions.label(), failed);
            Self::start_sessions(&myself, state).await?;
        }
        Ok(())
    }
}

/// Counts a restart, and a failure when the actor panicked or returned an error.
fn record_restart(actor: &'static str, failed: bool) {
    metrics::counter!(telemetry_metrics::ACTOR_RESTARTS, "actor" => actor).increment(1);
    if failed {
        metrics::counter!(telemetry_metrics::ACTOR_FAILURES, "actor" => actor).increment(1);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use async_trait::async_trait;
    use uuid::Uuid;

    use super::*;
    use crate::actors::revocation::RevocationView;
    use crate::domain::credential::{IssuedToken, Refreshed};
    use crate::domain::events::{Origin, SecurityEvent};
    use crate::domain::notification::{DeliveryError, OutgoingMessage};
    use crate::domain::session::Opening;
    use crate::domain::token::Claims;
    use crate::domain::AuthError;
    use crate::ports::{MessageSender, SystemClock};
    use crate::storage::memory::LocalBus;
    use crate::storage::sql::SqlStore;

    /// Sessions are not what these tests are about: every call is refused.
    struct NoSessions;

    #[async_trait]
    impl SessionLifecycle for NoSessions {
        async fn open(&self, _: Opening, _: Origin, _: SecurityEvent) -> Result<IssuedToken, AuthError> {
            Err(AuthError::Unavailable("test"))
        }
        async fn refresh(&self, _: Claims, _: Origin) -> Result<Refreshed, AuthError> {
            Err(AuthError::Unavailable("test"))
        }
        async fn close(&self, _: Uuid, _: Option<SecurityEvent>) -> Result<(), AuthError> {
            Err(AuthError::Unavailable("test"))
        }
        async fn close_all(&self, _: Uuid, _: Option<Uuid>, _: Option<SecurityEvent>) -> Result<(), AuthError> {
            Err(AuthError::Unavailable("test"))
        }
    }

    /// Nothing is queued in these tests, so nothing is ever sent.
    struct NoSender;

    #[async_trait]
    impl MessageSender for NoSender {
        async fn send(&self, _: &OutgoingMessage) -> Result<(), DeliveryError> {
            Err(DeliveryError::permanent("test"))
        }
    }

    async fn supervised() -> (ActorRef<()>, ActorSlots) {
        let store = Arc::new(SqlStore::connect("sqlite::memory:").await.unwrap());
        store.migrate().await.unwrap();
        let slots = ActorSlots::new();
        let args = SupervisorArgs {
            slots: slots.clone(),
            revocation: RevocationArgs {
                view: RevocationView::default(),
                store: store.clone(),
                bus: Arc::new(LocalBus),
                clock: Arc::new(SystemClock),
                catch_up_every: Duration::from_secs(1),
            },
            sessions: Arc::new(NoSessions),
            notifications: NotificationArgs {
                outbox: store,
                data_key: Arc::new(crate::crypto::secrets::Secrets::from_key(&[1; 32])),
                email: Arc::new(NoSender),
                phone: Arc::new(NoSender),
                webhook: None,
                clock: Arc::new(SystemClock),
                retry: crate::actors::notifications::RetryPolicy {
                    base: Duration::from_millis(100),
                    cap: Duration::from_secs(1),
                    max_attempts: 3,
                },
                poll_every: Duration::from_secs(1),
            },
            mfa: None,
        };
        let (supervisor, _) = Actor::spawn(None, Supervisor, args).await.unwrap();
        (supervisor, slots)
    }
    #[tokio::test]
    async fn a_killed_child_is_restarted_and_its_slot_repointed() {
        let (supervisor, slots) = supervised().await;
        slots.sessions.call(SessionMsg::Ping).await.unwrap();
        let first = slots.sessions.current.read().clone().unwrap();
        first.kill();
        let mut restarted = false;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let current = slots.sessions.current.read().clone().unwrap();
            if current.get_id() != first.get_id() && slots.sessions.call(SessionMsg::Ping).await.is_ok() {
                restarted = true;
                break;
            }
        }
        assert!(restarted, "the session actor came back");
        assert_eq!(slots.restarts.load(Ordering::Relaxed), 1);
        slots.revocations.call(RevocationMsg::Ping).await.unwrap();
        supervisor.stop(None);
    }

    #[tokio::test]
    async fn stopping_the_supervisor_stops_the_children_without_restarts() {
        let (supervisor, slots) = supervised().await;
        let child = slots.revocations.current.read().clone().unwrap();
        supervisor.stop_and_wait(None, None).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(slots.restarts.load(Ordering::Relaxed), 0);
        assert!(slots.revocations.call(RevocationMsg::Ping).await.is_err());
        assert!(matches!(
            child.get_status(),
            ractor::ActorStatus::Stopped | ractor::ActorStatus::Stopping
        ));
    }
}
