//! Micro-batching: the calls that arrive while statements run share the next one.
//!
//! Under load most of a small statement's cost is the statement itself (a round trip,
//! parsing, planning, a commit), not its row. A [`Batcher`] owns one task that takes every
//! call queued so far and hands them to its `apply` function together, with up to
//! [`IN_FLIGHT`] statements running at once (so one slow statement does not hold up the
//! rest, and several database connections stay busy). Alone, a call waits for nothing;
//! under load, for at most the statements ahead of it.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::ports::{StoreError, StoreResult};

/// Calls one statement takes at most.
pub const MAX_BATCH: usize = 64;

/// Statements one batcher runs at the same time at most. Measured with `load/refresh.js`
/// (32 clients): 1 or 2 give the biggest batches and the most refreshes per second on both
/// databases, 4 already 10 % fewer; 2 keeps one slow statement from holding up every call.
pub const IN_FLIGHT: usize = 2;

/// Times the batching task yields to the runtime after the first call of a batch, taking
/// what has queued meanwhile: the requests already running on the other worker threads
/// join this statement instead of starting the next one. A few microseconds of latency;
/// measured with `load/refresh.js` on PostgreSQL, it takes batches from about 4 calls to
/// about 6 and the statements per refresh down by a third.
pub const JOIN_YIELDS: usize = 2;

/// Calls waiting for the batching task at most; past it callers wait to queue.
const QUEUE: usize = 4096;

type Call<T, R> = (T, oneshot::Sender<StoreResult<R>>);

/// The handle calls go through; its task stops when the last handle is dropped.
pub struct Batcher<T, R> {
    queue: mpsc::Sender<Call<T, R>>,
}

impl<T: Send + Sync + 'static, R: Send + 'static> Batcher<T, R> {
    /// Starts the batching task. `apply` gets up to [`MAX_BATCH`] calls and must answer
    /// each, in order.
    pub fn start<F, Fut>(apply: F) -> Self
    where
        F: Fn(Arc<Vec<T>>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<R>, sqlx::Error>> + Send + 'static,
    {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(run(apply, waiting));
        Self { queue }
    }

    pub async fn call(&self, input: T) -> StoreResult<R> {
        let (reply, answer) = oneshot::channel();
        self.queue.send((input, reply)).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run<T, R, F, Fut>(apply: F, mut waiting: mpsc::Receiver<Call<T, R>>)
where
    T: Send + Sync + 'static,
    R: Send + 'static,
    F: Fn(Arc<Vec<T>>) -> Fut,
    Fut: Future<Output = Result<Vec<R>, sqlx::Error>> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut calls = Vec::with_capacity(MAX_BATCH);
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        if waiting.recv_many(&mut calls, MAX_BATCH).await == 0 {
            return;
        }
        for _ in 0..JOIN_YIELDS {
            tokio::task::yield_now().await;
            while calls.len() < MAX_BATCH {
                let Ok(call) = waiting.try_recv() else { break };
                calls.push(call);
            }
        }
        let (inputs, replies): (Vec<T>, Vec<_>) = calls.drain(..).unzip();
        let expected = inputs.len();
        let statement = apply(Arc::new(inputs));
        tokio::spawn(async move {
            match statement.await {
                Ok(answers) if answers.len() == expected => {
                    for (reply, answer) in replies.into_iter().zip(answers) {
                        let _ = reply.send(Ok(answer));
                    }
                }
                Ok(_) => answer_all(replies, "a batch answered the wrong number of calls"),
                Err(err) => answer_all(replies, &err.to_string()),
            }
            drop(slot);
        });
    }
}

fn answer_all<R>(replies: Vec<oneshot::Sender<StoreResult<R>>>, reason: &str) {
    for reply in replies {
        let _ = reply.send(Err(StoreError::Unavailable {
            component: "database",
            reason: reason.to_owned(),
        }));
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable {
        component: "database",
        reason: "the batching task has stopped".into(),
    }
}

/// `$first, $first+1, ...`: `count` numbered parameters, comma-separated.
pub fn parameters(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_from_the_first() {
        assert_eq!(parameters(7, 3), "$7, $8, $9");
    }

    #[tokio::test]
    async fn calls_queued_together_share_one_apply_and_each_gets_its_answer() {
        let sizes = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let doubler = Batcher::start(move |inputs: Arc<Vec<u32>>| {
            seen.lock().push(inputs.len());
            let answers = inputs.iter().map(|n| n * 2).collect();
            async move { Ok(answers) }
        });
        let (a, b, c) = tokio::join!(doubler.call(1), doubler.call(2), doubler.call(3));
        assert_eq!((a.unwrap(), b.unwrap(), c.unwrap()), (2, 4, 6));
        assert_eq!(*sizes.lock(), vec![3]);
    }

    #[tokio::test]
    async fn a_failed_statement_fails_every_call_of_its_batch() {
        let failing = Batcher::start(|_: Arc<Vec<u32>>| async { Err::<Vec<u32>, _>(sqlx::Error::PoolTimedOut) });
        let (a, b) = tokio::join!(failing.call(1), failing.call(2));
        assert!(matches!(a, Err(StoreError::Unavailable { .. })));
        assert!(matches!(b, Err(StoreError::Unavailable { .. })));
    }
}
