//! A stable handle to an actor that the supervisor may replace after a crash.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use ractor::rpc::CallResult;
use ractor::{ActorRef, RpcReplyPort};

use crate::domain::AuthError;

/// How long any caller waits for an actor's answer before giving up with 503.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Where callers find the live instance of one actor. The supervisor fills and refills it.
pub struct ActorSlot<M: ractor::Message> {
    name: &'static str,
    pub(crate) current: Arc<RwLock<Option<ActorRef<M>>>>,
}

impl<M: ractor::Message> Clone for ActorSlot<M> {
    fn clone(&self) -> Self {
        Self {
            name: self.name,
            current: self.current.clone(),
        }
    }
}

impl<M: ractor::Message> ActorSlot<M> {
    /// An empty slot; calls fail with 503 until the supervisor starts the actor.
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            current: Arc::new(RwLock::new(None)),
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
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
        self.actor()?
            .cast(message)
            .map_err(|_| AuthError::Unavailable(self.name))
    }

    /// Asks and waits at most [`CALL_TIMEOUT`].
    pub async fn call<R: Send + 'static>(&self, build: impl FnOnce(RpcReplyPort<R>) -> M) -> Result<R, AuthError> {
        match self.actor()?.call(build, Some(CALL_TIMEOUT)).await {
            Ok(CallResult::Success(answer)) => Ok(answer),
            Ok(CallResult::Timeout) => {
                tracing::warn!(actor = self.name, "actor call timed out");
                Err(AuthError::Unavailable(self.name))
            }
            Ok(CallResult::SenderError) | Err(_) => Err(AuthError::Unavailable(self.name)),
        }
    }
}
