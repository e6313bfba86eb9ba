//! The MFA challenge actor: sequences the steps of each login challenge (choose, then code).
//!
//! Steps naming the same challenge hash run one after the other on this instance, in
//! arrival order; steps of different challenges run side by side. Each step runs in a
//! spawned task against the cache port (the database's `ephemeral_entries` on PostgreSQL,
//! process memory on SQLite), whose one-statement operations keep the attempt count and
//! single use exact across instances; challenges expire with their cache entries (10
//! minutes).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use async_trait::async_trait;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::domain::credential::Credential;
use crate::domain::events::Origin;
use crate::domain::mfa::{ChosenStep, FactorAnswer};
use crate::domain::AuthError;
use crate::telemetry::metrics;

type Reply<T> = RpcReplyPort<Result<T, AuthError>>;

/// The MFA login steps, as the use cases implement them.
#[async_trait]
pub trait MfaSteps: Send + Sync {
    /// Picks a strategy for the login challenge `hash`; returns the code step.
    async fn choose(&self, hash: &str, strategy: &str) -> Result<ChosenStep, AuthError>;
    /// Checks the answer for the code challenge `hash`; opens the session for `origin`.
    async fn submit(&self, hash: &str, answer: &FactorAnswer, origin: &Origin) -> Result<Credential, AuthError>;
}

/// What the MFA challenge actor is asked.
pub enum MfaMsg {
    Choose {
        hash: String,
        strategy: String,
        reply: Reply<ChosenStep>,
    },
    Submit {
        hash: String,
        answer: FactorAnswer,
        origin: Origin,
        reply: Reply<Credential>,
    },
    /// The step running for `hash` finished; the next queued one may start.
    StepFinished { hash: String },
    /// Answers while the actor is alive; used by readiness.
    Ping(RpcReplyPort<()>),
    /// Test-only: misbehave on purpose, to prove supervision and call timeouts.
    #[cfg(feature = "fault-injection")]
    Inject(super::fault::Fault),
}

impl MfaMsg {
    /// The message's name for metrics, and whether it came through the actor's slot.
    fn describe(&self) -> (&'static str, bool) {
        match self {
            MfaMsg::Choose { .. } => ("choose", true),
            MfaMsg::Submit { .. } => ("submit", true),
            MfaMsg::StepFinished { .. } => ("step_finished", false),
            MfaMsg::Ping(_) => ("ping", true),
            #[cfg(feature = "fault-injection")]
            MfaMsg::Inject(_) => ("inject", true),
        }
    }
}

/// A step waiting for its turn.
enum Step {
    Choose {
        strategy: String,
        reply: Reply<ChosenStep>,
    },
    Submit {
        answer: FactorAnswer,
        origin: Origin,
        reply: Reply<Credential>,
    },
}

pub struct MfaActor;

pub struct MfaState {
    steps: Arc<dyn MfaSteps>,
    /// Challenges with a step running, and the steps waiting behind it.
    running: HashMap<String, VecDeque<Step>>,
}

impl Actor for MfaActor {
    type Msg = MfaMsg;
    type State = MfaState;
    type Arguments = Arc<dyn MfaSteps>;

    async fn pre_start(
        &self,
        _myself: ActorRef<MfaMsg>,
        steps: Arc<dyn MfaSteps>,
    ) -> Result<MfaState, ActorProcessingErr> {
        Ok(MfaState {
            steps,
            running: HashMap::new(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<MfaMsg>,
        message: MfaMsg,
        state: &mut MfaState,
    ) -> Result<(), ActorProcessingErr> {
        let started = std::time::Instant::now();
        let (kind, from_outside) = message.describe();
        if from_outside {
            metrics::mailbox("mfa", -1.0);
        }
        match message {
            MfaMsg::Choose { hash, strategy, reply } => enqueue(&myself, state, hash, Step::Choose { strategy, reply }),
            MfaMsg::Submit {
                hash,
                answer,
                origin,
                reply,
            } => enqueue(&myself, state, hash, Step::Submit { answer, origin, reply }),
            MfaMsg::StepFinished { hash } => {
                let next = state.running.get_mut(&hash).and_then(VecDeque::pop_front);
                match next {
                    Some(step) => run(&myself, state, hash, step),
                    None => {
                        state.running.remove(&hash);
                    }
                }
            }
            MfaMsg::Ping(reply) => {
                let _ = reply.send(());
            }
            #[cfg(feature = "fault-injection")]
            MfaMsg::Inject(fault) => fault.strike().await,
        }
        metrics::actor_handled("mfa", kind, started);
        Ok(())
    }
}

fn enqueue(myself: &ActorRef<MfaMsg>, state: &mut MfaState, hash: String, step: Step) {
    match state.running.get_mut(&hash) {
        Some(waiting) => waiting.push_back(step),
        None => {
            state.running.insert(hash.clone(), VecDeque::new());
            run(myself, state, hash, step);
        }
    }
}

/// Runs one step in its own task; its end comes back as `StepFinished`.
fn run(myself: &ActorRef<MfaMsg>, state: &MfaState, hash: String, step: Step) {
    let steps = state.steps.clone();
    let myself = myself.clone();
    tokio::spawn(async move {
        match step {
            Step::Choose { strategy, reply } => {
                let _ = reply.send(guarded(steps.choose(&hash, &strategy)).await);
            }
            Step::Submit { answer, origin, reply } => {
                let _ = reply.send(guarded(steps.submit(&hash, &answer, &origin)).await);
            }
        }
        let _ = myself.cast(MfaMsg::StepFinished { hash });
    });
}

/// Turns a panic in a step into a 503 answer, so no caller is left waiting.
async fn guarded<T>(work: impl std::future::Future<Output = Result<T, AuthError>>) -> Result<T, AuthError> {
    use futures::FutureExt as _;
    std::panic::AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .unwrap_or(Err(AuthError::Unavailable("mfa challenge actor")))
}
