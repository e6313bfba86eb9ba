//! The revocation exchange: this instance's view of what is revoked, fed by its own
//! revocations, by the other instances over the bus, and by a periodic catch-up from the
//! database log (the source of truth, which also covers messages lost while Redis was away).

use std::sync::Arc;
use std::time::Duration;

use crate::telemetry::metrics;
use parking_lot::RwLock;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::domain::revocation::{Revocation, RevokedSet};
use crate::ports::{Clock, RevocationBus, SessionStore};

/// How far back each catch-up re-reads, so revocations committed late are not missed.
const CATCH_UP_OVERLAP_SECS: i64 = 10;

/// How often the database log is rid of revocations that no longer matter.
const PRUNE_LOG_EVERY_SECS: i64 = 60;

/// Read-only access to the revoked set for request handlers: a lock read, no round trip.
/// Only the revocation actor writes to it.
#[derive(Clone, Default)]
pub struct RevocationView {
    set: Arc<RwLock<RevokedSet>>,
}

impl RevocationView {
    pub fn is_revoked(&self, sid: Uuid, jti: Uuid) -> bool {
        self.set.read().is_revoked(sid, jti)
    }

    pub fn len(&self) -> usize {
        self.set.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn apply(&self, revocations: &[Revocation]) {
        let mut set = self.set.write();
        for revocation in revocations {
            set.insert(*revocation);
        }
    }

    fn prune(&self, now: i64) {
        self.set.write().prune(now);
    }

    /// Fills the view from the database log before the server takes requests.
    pub async fn load(&self, store: &dyn SessionStore, now: i64) -> anyhow::Result<()> {
        let revocations = store.revocations_since(0, now).await?;
        self.apply(&revocations);
        Ok(())
    }
}

/// What the revocation actor is told.
pub enum RevocationMsg {
    /// Revocations this instance has just made durable: apply them, answer once they hold
    /// here, and tell the other instances of the urgent ones (the rest reach them by their
    /// catch-up; see `Revocation::is_urgent`).
    Announce(Vec<Revocation>, RpcReplyPort<()>),
    /// Revocations learned from another instance or from the database: apply them.
    Apply(Vec<Revocation>),
    /// Time to re-read the database log and forget what has lapsed (here, and now and
    /// then in the log itself).
    CatchUp,
    /// A catch-up that started at `started_at` has finished; `None` when the database failed.
    CaughtUp {
        started_at: i64,
        found: Option<Vec<Revocation>>,
    },
    /// Answers while the actor is alive; used by readiness.
    Ping(RpcReplyPort<()>),
    /// Test-only: misbehave on purpose, to prove supervision and call timeouts.
    #[cfg(feature = "fault-injection")]
    Inject(super::fault::Fault),
}

impl RevocationMsg {
    /// The message's name for metrics, and whether it came through the actor's slot (and
    /// so was counted into the mailbox) rather than from the actor itself or a timer.
    fn describe(&self) -> (&'static str, bool) {
        match self {
            RevocationMsg::Announce(..) => ("announce", true),
            RevocationMsg::Apply(_) => ("apply", false),
            RevocationMsg::CatchUp => ("catch_up", false),
            RevocationMsg::CaughtUp { .. } => ("caught_up", false),
            RevocationMsg::Ping(_) => ("ping", true),
            #[cfg(feature = "fault-injection")]
            RevocationMsg::Inject(_) => ("inject", true),
        }
    }
}

/// Everything the actor needs; cloned into each (re)start.
#[derive(Clone)]
pub struct RevocationArgs {
    pub view: RevocationView,
    pub store: Arc<dyn SessionStore>,
    pub bus: Arc<dyn RevocationBus>,
    pub clock: Arc<dyn Clock>,
    pub catch_up_every: Duration,
}

pub struct RevocationActor;

pub struct RevocationState {
    args: RevocationArgs,
    /// Start of the last finished catch-up; the next one reads from there (with overlap).
    caught_up_to: i64,
    catching_up: bool,
    /// When the database log was last pruned.
    pruned_at: i64,
    listener: JoinHandle<()>,
}

impl Actor for RevocationActor {
    type Msg = RevocationMsg;
    type State = RevocationState;
    type Arguments = RevocationArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<RevocationMsg>,
        args: RevocationArgs,
    ) -> Result<RevocationState, ActorProcessingErr> {
        myself.send_interval(args.catch_up_every, || RevocationMsg::CatchUp);
        let listener = tokio::spawn(listen_to_bus(args.bus.clone(), myself.clone()));
        Ok(RevocationState {
            caught_up_to: args.clock.unix_now() - CATCH_UP_OVERLAP_SECS,
            pruned_at: args.clock.unix_now(),
            args,
            catching_up: false,
            listener,
        })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<RevocationMsg>,
        state: &mut RevocationState,
    ) -> Result<(), ActorProcessingErr> {
        state.listener.abort();
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<RevocationMsg>,
        message: RevocationMsg,
        state: &mut RevocationState,
    ) -> Result<(), ActorProcessingErr> {
        let started = std::time::Instant::now();
        let (kind, from_outside) = message.describe();
        if from_outside {
            metrics::mailbox("revocations", -1.0);
        }
        match message {
            RevocationMsg::Announce(revocations, applied) => {
                state.args.view.apply(&revocations);
                let _ = applied.send(());
                let urgent: Vec<Revocation> = revocations.into_iter().filter(Revocation::is_urgent).collect();
                if !urgent.is_empty() {
                    let bus = state.args.bus.clone();
                    tokio::spawn(async move {
                        for revocation in &urgent {
                            if let Err(err) = bus.publish(revocation).await {
                                tracing::warn!(%err, "could not publish a revocation; other instances catch up from the database");
                            }
                        }
                    });
                }
            }
            RevocationMsg::Apply(revocations) => state.args.view.apply(&revocations),
            RevocationMsg::CatchUp if !state.catching_up => {
                state.catching_up = true;
                let store = state.args.store.clone();
                let started_at = state.args.clock.unix_now();
                let since = state.caught_up_to - CATCH_UP_OVERLAP_SECS;
                tokio::spawn(async move {
                    let found = store
                        .revocations_since(since, started_at)
                        .await
                        .inspect_err(|err| tracing::warn!(%err, "revocation catch-up failed; will retry"))
                        .ok();
                    let _ = myself.cast(RevocationMsg::CaughtUp { started_at, found });
                });
            }
            RevocationMsg::CatchUp => {}
            RevocationMsg::CaughtUp { started_at, found } => {
                state.catching_up = false;
                if let Some(found) = found {
                    state.args.view.apply(&found);
                    state.caught_up_to = started_at;
                }
                let now = state.args.clock.unix_now();
                state.args.view.prune(now);
                ::metrics::gauge!(metrics::REVOCATIONS_TRACKED).set(state.args.view.len() as f64);
                if now - state.pruned_at >= PRUNE_LOG_EVERY_SECS {
                    state.pruned_at = now;
                    let store = state.args.store.clone();
                    tokio::spawn(async move {
                        if let Err(err) = store.prune_revocations(now).await {
                            tracing::warn!(%err, "could not prune the revocation log; will try again");
                        }
                    });
                }
            }
            RevocationMsg::Ping(reply) => {
                let _ = reply.send(());
            }
            #[cfg(feature = "fault-injection")]
            RevocationMsg::Inject(fault) => fault.strike().await,
        }
        metrics::actor_handled("revocations", kind, started);
        Ok(())
    }
}

/// Forwards what the bus delivers to the actor. After the bus fails or reconnects it
/// listens again and has the actor catch up from the database at once, so what was
/// published during an outage arrives without waiting for the next periodic catch-up.
async fn listen_to_bus(bus: Arc<dyn RevocationBus>, actor: ActorRef<RevocationMsg>) {
    let mut relistening = false;
    loop {
        if relistening && actor.cast(RevocationMsg::CatchUp).is_err() {
            return;
        }
        relistening = true;
        let (sink, mut received) = mpsc::channel(256);
        let forward_to = actor.clone();
        let forwarder = tokio::spawn(async move {
            while let Some(revocation) = received.recv().await {
                if forward_to.cast(RevocationMsg::Apply(vec![revocation])).is_err() {
                    return;
                }
            }
        });
        if let Err(err) = bus.listen(sink).await {
            tracing::warn!(%err, "revocation bus listener stopped; retrying");
        }
        forwarder.abort();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
