//! The session actor: the one entry point for opening, rotating and closing sessions.
//!
//! Its own job is sequencing. Concurrent refreshes of the same token are coalesced: the first
//! starts the rotation, the others wait for it and all receive the same successor. The
//! database work itself runs in spawned tasks, through the [`SessionLifecycle`] the use
//! cases implement; their results come back as messages, so the actor's loop never waits
//! on I/O.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use async_trait::async_trait;
use futures::FutureExt as _;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use uuid::Uuid;

use crate::domain::credential::{IssuedToken, Refreshed};
use crate::domain::events::{Origin, SecurityEvent};
use crate::domain::session::Opening;
use crate::domain::token::Claims;
use crate::domain::AuthError;
use crate::telemetry::metrics;

type Reply<T> = RpcReplyPort<Result<T, AuthError>>;

/// The session work the actor sequences, as the use cases implement it against storage.
#[async_trait]
pub trait SessionLifecycle: Send + Sync {
    /// Starts a session, from `origin`, for a user who has proved who they are; returns its
    /// first token. `event` (the sign-in) is written with the session.
    async fn open(&self, opening: Opening, origin: Origin, event: SecurityEvent) -> Result<IssuedToken, AuthError>;
    /// Rotates the session of `presented` (already signature- and expiry-checked), sent
    /// from `origin`.
    async fn refresh(&self, presented: Claims, origin: Origin) -> Result<Refreshed, AuthError>;
    /// Ends one session on every instance, writing `event` with the revocation.
    async fn close(&self, sid: Uuid, event: Option<SecurityEvent>) -> Result<(), AuthError>;
    /// Ends every session of a user but `except`, on every instance.
    async fn close_all(
        &self,
        user_id: Uuid,
        except: Option<Uuid>,
        event: Option<SecurityEvent>,
    ) -> Result<(), AuthError>;
}

/// What the session actor is asked to do.
pub enum SessionMsg {
    /// Open a session for a user who has just proved who they are.
    Open {
        opening: Opening,
        origin: Origin,
        event: SecurityEvent,
        reply: Reply<IssuedToken>,
    },
    /// Exchange a session's token (already signature- and expiry-checked) for its successor.
    Refresh {
        claims: Claims,
        origin: Origin,
        reply: Reply<Refreshed>,
    },
    /// End one session, recording `event` with it.
    Close {
        sid: Uuid,
        event: Option<SecurityEvent>,
        reply: Reply<()>,
    },
    /// End every session of a user, but `except` when given.
    CloseAll {
        user_id: Uuid,
        except: Option<Uuid>,
        event: Option<SecurityEvent>,
        reply: Reply<()>,
    },
    /// Answers while the actor is alive; used by readiness.
    Ping(RpcReplyPort<()>),
    /// Test-only: misbehave on purpose, to prove supervision and call timeouts.
    #[cfg(feature = "fault-injection")]
    Inject(super::fault::Fault),
    /// A rotation this actor started has finished.
    RefreshFinished {
        key: RefreshKey,
        result: Result<Refreshed, AuthError>,
    },
}

impl SessionMsg {
    /// The message's name for metrics, and whether it came through the actor's slot (and
    /// so was counted into the mailbox) rather than from the actor itself or a timer.
    fn describe(&self) -> (&'static str, bool) {
        match self {
            SessionMsg::Open { .. } => ("open", true),
            SessionMsg::Refresh { .. } => ("refresh", true),
            SessionMsg::Close { .. } => ("close", true),
            SessionMsg::CloseAll { .. } => ("close_all", true),
            SessionMsg::Ping(_) => ("ping", true),
            #[cfg(feature = "fault-injection")]
            SessionMsg::Inject(_) => ("inject", true),
            SessionMsg::RefreshFinished { .. } => ("refresh_finished", false),
        }
    }
}

/// Identifies one refresh: the presented token of one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RefreshKey {
    sid: Uuid,
    jti: Uuid,
}

pub struct SessionActor;

pub struct SessionState {
    service: Arc<dyn SessionLifecycle>,
    /// Callers waiting for each rotation under way.
    waiting: HashMap<RefreshKey, Vec<Reply<Refreshed>>>,
}

impl Actor for SessionActor {
    type Msg = SessionMsg;
    type State = SessionState;
    type Arguments = Arc<dyn SessionLifecycle>;

    async fn pre_start(
        &self,
        _myself: ActorRef<SessionMsg>,
        service: Arc<dyn SessionLifecycle>,
    ) -> Result<SessionState, ActorProcessingErr> {
        Ok(SessionState {
            service,
            waiting: HashMap::new(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<SessionMsg>,
        message: SessionMsg,
        state: &mut SessionState,
    ) -> Result<(), ActorProcessingErr> {
        let started = std::time::Instant::now();
        let (kind, from_outside) = message.describe();
        if from_outside {
            metrics::mailbox("sessions", -1.0);
        }
        let service = state.service.clone();
        match message {
            SessionMsg::Open {
                opening,
                origin,
                event,
                reply,
            } => {
                answer_when_done(reply, async move { service.open(opening, origin, event).await });
            }
            SessionMsg::Close { sid, event, reply } => {
                answer_when_done(reply, async move { service.close(sid, event).await });
            }
            SessionMsg::CloseAll {
                user_id,
                except,
                event,
                reply,
            } => {
                answer_when_done(reply, async move { service.close_all(user_id, except, event).await });
            }
            SessionMsg::Refresh { claims, origin, reply } => {
                let key = RefreshKey {
                    sid: claims.sid,
                    jti: claims.jti,
                };
                if let Some(waiters) = state.waiting.get_mut(&key) {
                    waiters.push(reply);
                } else {
                    state.waiting.insert(key, vec![reply]);
                    tokio::spawn(async move {
                        let result = guarded(service.refresh(claims, origin)).await;
                        let _ = myself.cast(SessionMsg::RefreshFinished { key, result });
                    });
                }
            }
            SessionMsg::Ping(reply) => {
                let _ = reply.send(());
            }
            #[cfg(feature = "fault-injection")]
            SessionMsg::Inject(fault) => fault.strike().await,
            SessionMsg::RefreshFinished { key, result } => {
                for waiter in state.waiting.remove(&key).unwrap_or_default() {
                    let _ = waiter.send(result.clone());
                }
            }
        }
        metrics::actor_handled("sessions", kind, started);
        Ok(())
    }
}

/// Runs `work` in its own task and sends its result to `reply`.
fn answer_when_done<T: Send + 'static>(
    reply: Reply<T>,
    work: impl Future<Output = Result<T, AuthError>> + Send + 'static,
) {
    tokio::spawn(async move {
        let _ = reply.send(guarded(work).await);
    });
}

/// Turns a panic in `work` into a 503 answer, so no caller is left waiting.
async fn guarded<T>(work: impl Future<Output = Result<T, AuthError>>) -> Result<T, AuthError> {
    AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .unwrap_or(Err(AuthError::Unavailable("session actor")))
}
