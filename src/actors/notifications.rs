//! The notification actor: delivers what the outbox holds, nothing lost.
//!
//! Every message is in the database before the API answers. The actor leases due messages
//! in batches (a lease that lapses, e.g. on a crash, makes them due again), delivers them
//! in a spawned task, and records each outcome: sent, retry later with exponential backoff,
//! or failed for good. It polls on an interval as well as when woken, so it resumes after a
//! restart and retries without any new request.

use std::sync::Arc;
use std::time::Duration;

use crate::telemetry::metrics;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use secrecy::ExposeSecret as _;

use crate::domain::notification::{retry_delay, DeliveryChannel, DeliveryError, OutgoingMessage};
use crate::ports::{Clock, DataKey, MessageSender, Outbox, QueuedMessage};

/// How many messages one batch leases.
const BATCH: u32 = 16;
/// How long a lease lasts; longer than any delivery takes.
const LEASE: Duration = Duration::from_secs(60);
/// Longest wait for one delivery.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// What the notification actor is told.
pub enum NotificationMsg {
    /// A message was just queued.
    Wake,
    /// Time to look for due messages (retries, and messages from before a restart).
    Poll,
    /// A batch finished; `full` when it leased as many as it could (more may be due).
    BatchFinished { full: bool },
    /// Answers while the actor is alive; used by readiness.
    Ping(RpcReplyPort<()>),
    /// Test-only: misbehave on purpose, to prove supervision and call timeouts.
    #[cfg(feature = "fault-injection")]
    Inject(super::fault::Fault),
}

impl NotificationMsg {
    /// The message's name for metrics, and whether it came through the actor's slot (and
    /// so was counted into the mailbox) rather than from the actor itself or a timer.
    fn describe(&self) -> (&'static str, bool) {
        match self {
            NotificationMsg::Wake => ("wake", true),
            NotificationMsg::Poll => ("poll", false),
            NotificationMsg::BatchFinished { .. } => ("batch_finished", false),
            NotificationMsg::Ping(_) => ("ping", true),
            #[cfg(feature = "fault-injection")]
            NotificationMsg::Inject(_) => ("inject", true),
        }
    }
}

/// Retry policy.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub base: Duration,
    pub cap: Duration,
    /// Attempts after which a message fails for good.
    pub max_attempts: u32,
}

/// Everything the actor needs; cloned into each (re)start.
#[derive(Clone)]
pub struct NotificationArgs {
    pub outbox: Arc<dyn Outbox>,
    /// Opens the sealed payloads.
    pub data_key: Arc<dyn DataKey>,
    pub email: Arc<dyn MessageSender>,
    pub phone: Arc<dyn MessageSender>,
    /// Posts security events; `None` when no webhook is configured.
    pub webhook: Option<Arc<dyn MessageSender>>,
    pub clock: Arc<dyn Clock>,
    pub retry: RetryPolicy,
    pub poll_every: Duration,
}

pub struct NotificationActor;

pub struct NotificationState {
    args: NotificationArgs,
    /// A batch is under way.
    delivering: bool,
    /// Something asked for a batch while one was under way.
    again: bool,
}

impl Actor for NotificationActor {
    type Msg = NotificationMsg;
    type State = NotificationState;
    type Arguments = NotificationArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<NotificationMsg>,
        args: NotificationArgs,
    ) -> Result<NotificationState, ActorProcessingErr> {
        myself.send_interval(args.poll_every, || NotificationMsg::Poll);
        let _ = myself.cast(NotificationMsg::Poll);
        Ok(NotificationState {
            args,
            delivering: false,
            again: false,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<NotificationMsg>,
        message: NotificationMsg,
        state: &mut NotificationState,
    ) -> Result<(), ActorProcessingErr> {
        let started = std::time::Instant::now();
        let (kind, from_outside) = message.describe();
        if from_outside {
            metrics::mailbox("notifications", -1.0);
        }
        match message {
            NotificationMsg::Wake | NotificationMsg::Poll => {
                if state.delivering {
                    state.again = true;
                } else {
                    start_batch(&myself, state);
                }
            }
            NotificationMsg::BatchFinished { full } => {
                state.delivering = false;
                if full || std::mem::take(&mut state.again) {
                    start_batch(&myself, state);
                }
            }
            NotificationMsg::Ping(reply) => {
                let _ = reply.send(());
            }
            #[cfg(feature = "fault-injection")]
            NotificationMsg::Inject(fault) => fault.strike().await,
        }
        metrics::actor_handled("notifications", kind, started);
        Ok(())
    }
}

fn start_batch(myself: &ActorRef<NotificationMsg>, state: &mut NotificationState) {
    state.delivering = true;
    let args = state.args.clone();
    let myself = myself.clone();
    tokio::spawn(async move {
        let full = match deliver_due(&args).await {
            Ok(leased) => leased == BATCH as usize,
            Err(err) => {
                tracing::warn!(%err, "could not read the outbox; will retry");
                false
            }
        };
        let _ = myself.cast(NotificationMsg::BatchFinished { full });
    });
}

fn now_ms(clock: &dyn Clock) -> i64 {
    (clock.now().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Leases one batch and delivers it; returns how many messages were leased.
async fn deliver_due(args: &NotificationArgs) -> anyhow::Result<usize> {
    let now = now_ms(args.clock.as_ref());
    let due = args
        .outbox
        .claim_due(now, now + LEASE.as_millis() as i64, BATCH)
        .await?;
    let leased = due.len();
    futures::future::join_all(due.into_iter().map(|message| deliver_one(args, message))).await;
    Ok(leased)
}

async fn deliver_one(args: &NotificationArgs, queued: QueuedMessage) {
    let outcome = match open(args, &queued) {
        Ok(message) => {
            let sender = match queued.channel {
                DeliveryChannel::Email => Some(&args.email),
                DeliveryChannel::Sms | DeliveryChannel::Whatsapp => Some(&args.phone),
                DeliveryChannel::Webhook => args.webhook.as_ref(),
            };
            match sender {
                Some(sender) => tokio::time::timeout(SEND_TIMEOUT, sender.send(&message))
                    .await
                    .unwrap_or_else(|_| Err(DeliveryError::transient("delivery timed out"))),
                None => Err(DeliveryError::permanent("no webhook is configured any more")),
            }
        }
        Err(err) => Err(err),
    };
    let now = now_ms(args.clock.as_ref());
    let attempts = queued.attempts + 1;
    let recorded = match outcome {
        Ok(()) => {
            tracing::info!(id = %queued.id, channel = queued.channel.as_str(), attempts, "message delivered");
            metrics::notification(queued.channel.as_str(), "sent");
            args.outbox.mark_sent(queued.id, now).await
        }
        Err(err) if err.permanent || attempts >= args.retry.max_attempts => {
            tracing::error!(id = %queued.id, channel = queued.channel.as_str(), attempts, reason = %err, "message failed for good");
            metrics::notification(queued.channel.as_str(), "failed");
            args.outbox.mark_failed(queued.id, now, &err.reason).await
        }
        Err(err) => {
            let delay = retry_delay(attempts, args.retry.base, args.retry.cap);
            metrics::notification(queued.channel.as_str(), "retried");
            tracing::warn!(id = %queued.id, channel = queued.channel.as_str(), attempts, reason = %err, retry_in_ms = delay.as_millis() as u64, "delivery failed; will retry");
            args.outbox
                .mark_retry(queued.id, now + delay.as_millis() as i64, &err.reason)
                .await
        }
    };
    if let Err(err) = recorded {
        tracing::warn!(id = %queued.id, %err, "could not record a delivery outcome; the lease will lapse and it is tried again");
    }
}

fn open(args: &NotificationArgs, queued: &QueuedMessage) -> Result<OutgoingMessage, DeliveryError> {
    let payload = args
        .data_key
        .open(&queued.payload_ciphertext)
        .ok_or_else(|| DeliveryError::permanent("payload cannot be decrypted with this data key"))?;
    serde_json::from_slice(payload.expose_secret())
        .map_err(|e| DeliveryError::permanent(format!("payload unreadable: {e}")))
}
