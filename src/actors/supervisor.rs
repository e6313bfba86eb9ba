//! The root supervisor: starts the actors, and restarts any that fails, pointing its
//! [`ActorSlot`] at the new instance so callers never hold a dead reference.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};

use super::revocation::{RevocationActor, RevocationArgs, RevocationMsg};
use super::sessions::{SessionActor, SessionMsg};
use super::ActorSlot;
use crate::usecases::sessions::SessionService;

/// Handles to every supervised actor; cheap to clone.
#[derive(Clone)]
pub struct ActorSlots {
    pub revocations: ActorSlot<RevocationMsg>,
    pub sessions: ActorSlot<SessionMsg>,
    /// Restarts so far, for operators.
    pub restarts: Arc<AtomicU64>,
}

impl ActorSlots {
    pub fn new() -> Self {
        Self {
            revocations: ActorSlot::new("revocation actor"),
            sessions: ActorSlot::new("session actor"),
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
    pub sessions: Arc<SessionService>,
}

pub struct Supervisor;

impl Supervisor {
    async fn start_revocations(myself: &ActorRef<()>, args: &SupervisorArgs) -> Result<(), ActorProcessingErr> {
        let (actor, _) = Actor::spawn_linked(None, RevocationActor, args.revocation.clone(), myself.get_cell()).await?;
        args.slots.revocations.fill(actor);
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
        Ok(args)
    }

    async fn post_stop(&self, _myself: ActorRef<()>, state: &mut SupervisorArgs) -> Result<(), ActorProcessingErr> {
        if let Some(actor) = state.slots.sessions.take() {
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
        let SupervisionEvent::ActorFailed(cell, reason) = event else {
            return Ok(());
        };
        state.slots.restarts.fetch_add(1, Ordering::Relaxed);
        if state.slots.revocations.holds(&cell) {
            tracing::error!(%reason, "revocation actor failed; restarting it");
            Self::start_revocations(&myself, state).await?;
        } else if state.slots.sessions.holds(&cell) {
            tracing::error!(%reason, "session actor failed; restarting it");
            Self::start_sessions(&myself, state).await?;
        }
        Ok(())
    }
}
