//! A stable handle to an actor that the supervisor may replace after a crash.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use ractor::rpc::CallResult;
use ractor::{ActorRef, RpcReplyPort};

use crate::domain::AuthError;
use crate::telemetry::metrics;

/// How long any caller waits for an actor's answer before giving up with 503.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Where callers find the live instance of one actor. The supervisor fills and refills it.
pub struct ActorSlot<M: ractor::Message> {
    name: &'static str,
    /// Short name for metrics, e.g. `sessions`.
    label: &'static str,
    pub(crate) current: Arc<RwLock<Option<ActorRef<M>>>>,
}

impl<M: ractor::Message> Clone for ActorSlot<M> {
    fn clone(&self) -> Self {
        Self {
            name: self.name,
            label: self.label,
            current: self.current.clone(),
        }
    }
}

impl<M: ractor::Message> ActorSlot<M> {
    /// An empty slot; calls fail with 503 until the supervisor starts the actor.
    pub fn new(name: &'static str, label: &'static str) -> Self {
        Self {
            name,
            label,
            current: Arc::new(RwLock::new(None)),
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn label(&self) -> &'static str {
        self.label
    }

    pub(crate) fn fill(&self, actor: ActorRef<M>) {
        *self.current.write() = Some(actor);
    }

    pub(crate) fn holds(&self, cell: &ractor::ActorCell) -> bool {
        self.current
            .read()
            .as_ref()
            .is_some_and(|a| a.get_id() == cell.get_id())
    }

    pub(crate) fn take(&self) -> Option<ActorRef<M>> {
        self.current.write().take()
    }

    fn actor(&self) -> Result<ActorRef<M>, AuthError> {
        self.current.read().clone().ok_or(AuthError::Unavailable(self.name))
    }

    /// Sends without waiting for an answer.
    pub fn cast(&self, message: M) -> Result<(), AuthError> {
        let actor = self.actor()?;
        metrics::mailbox(self.label, 1.0);
        actor.cast(message).map_err(|_| {
            metrics::mailbox(self.label, -1.0);
            AuthError::Unavailable(self.name)
        })
    }

    /// Asks and waits at most [`CALL_TIMEOUT`].
    pub async fn call<R: Send + 'static>(&self, build: impl FnOnce(RpcReplyPort<R>) -> M) -> Result<R, AuthError> {
        let actor = self.actor()?;
        metrics::mailbox(self.label, 1.0);
        match actor.call(build, Some(CALL_TIMEOUT)).await {
            Ok(CallResult::Success(answer)) => Ok(answer),
            Ok(CallResult::Timeout) => {
                tracing::warn!(actor = self.name, "actor call timed out");
                Err(AuthError::Unavailable(self.name))
            }
            Ok(CallResult::SenderError) => Err(AuthError::Unavailable(self.name)),
            Err(_) => {
                metrics::mailbox(self.label, -1.0);
                Err(AuthError::Unavailable(self.name))
            }
        }
    }
}
