//! Throttling of the actions an attacker would repeat: password and code guesses, sign-ups
//! and reset e-mails. The budgets and the backoff are the rules of
//! [`crate::domain::throttle`]; this file keeps the counters in the cache port.
//!
//! Every attempt takes its units with atomic increments *before* any secret is compared, so
//! parallel guesses cannot exceed a limit: the increment that crosses it is refused (and
//! given back). Past the free failures, the attempt that starts also sets a gate for the
//! backoff wait; only one concurrent attempt can set it, the others are refused until it
//! lapses. The counters live in Redis when configured, so every instance enforces one limit.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::domain::throttle::{client_bucket, Action, Counting, ThrottlePolicy};
use crate::domain::AuthError;
use crate::ports::Cache;
use crate::telemetry::metrics as telemetry;

/// Who makes an attempt: the account it is aimed at (when known) and the client address.
#[derive(Debug, Clone, Copy)]
pub struct Attempter<'a> {
    /// Normalized email or user id; `None` when the request names no known account.
    pub account: Option<&'a str>,
    pub client: IpAddr,
}

/// Keeps the attempt counters of every throttled action.
#[derive(Clone)]
pub struct Throttle {
    cache: Arc<dyn Cache>,
    policy: ThrottlePolicy,
}

/// The counters one attempt took a unit of, to settle once its outcome is known.
struct Attempt {
    action: Action,
    /// The per-IP and per-account budgets.
    budgets: Vec<String>,
    /// The attempt count of this account and IP, and the backoff gate this attempt set.
    backoff_count: Option<String>,
    gate: Option<String>,
}

/// How an attempt ended, for the counters.
enum Outcome {
    /// Proved the secret: the units go back and the backoff is cleared.
    Succeeded,
    /// A wrong guess: the units stay.
    Failed,
    /// Ended before any guess was judged (bad input, a dependency down): the units go back.
    Undecided,
}

/// Checks that `password` is `user`'s, as one sign-in attempt of the throttle (per account
/// and client): a wrong one is 401 `invalid_credentials` and counts as a failure, past the
/// limits the password is not checked (429). For confirmations of a signed-in user.
pub(super) async fn check_own_password(
    throttle: &Throttle,
    hasher: &dyn crate::ports::PasswordHashing,
    user: &crate::domain::user::User,
    password: secrecy::SecretString,
    client: IpAddr,
) -> Result<(), AuthError> {
    let normalized = user.email.normalized();
    let who = Attempter {
        account: Some(&normalized),
        client,
    };
    let check = async {
        match hasher.verify(password, Some(user.password_hash.clone())).await? {
            true => Ok(()),
            false => Err(AuthError::InvalidCredentials),
        }
    };
    throttle.attempt(Action::Login, who, check).await
}

impl Throttle {
    pub fn new(cache: Arc<dyn Cache>, policy: ThrottlePolicy) -> Self {
        Self { cache, policy }
    }

    /// Runs `work` as one attempt at `action` by `who`, or refuses it with
    /// [`AuthError::RateLimited`] without running it.
    pub async fn attempt<T>(
        &self,
        action: Action,
        who: Attempter<'_>,
        work: impl Future<Output = Result<T, AuthError>>,
    ) -> Result<T, AuthError> {
        let attempt = self.begin(action, who).await?;
        let result = work.await;
        let outcome = match &result {
            Ok(_) => Outcome::Succeeded,
            Err(err) if err.is_failed_guess() => Outcome::Failed,
            Err(_) => Outcome::Undecided,
        };
        self.settle(attempt, outcome).await;
        result
    }

    async fn begin(&self, action: Action, who: Attempter<'_>) -> Result<Attempt, AuthError> {
        let prefix = format!("throttle:{}", action.name());
        let client = client_bucket(who.client);
        let mut attempt = Attempt {
            action,
            budgets: Vec::with_capacity(2),
            backoff_count: None,
            gate: None,
        };
        let backoff = self.policy.backoff(action);
        let pair = who.account.map(|account| format!("{account}|{client}"));
        if let (Some(_), Some(pair)) = (backoff, &pair) {
            let gate = format!("{prefix}:gate:{pair}");
            if let Some(wait) = self.cache.ttl(&gate).await? {
                return Err(refusal(action, "backoff", wait));
            }
        }

        let mut budgets = vec![(format!("{prefix}:ip:{client}"), self.policy.ip_limit(action), "ip")];
        if let Some(account) = who.account {
            let key = format!("{prefix}:account:{account}");
            budgets.push((key, self.policy.account_limit(action), "account"));
        }
        for (key, limit, scope) in budgets {
            let n = self.cache.incr(&key, limit.window).await?;
            attempt.budgets.push(key);
            if limit.exceeded_by(n) {
                let wait = self.cache.ttl(attempt.budgets.last().expect("just pushed")).await?;
                self.give_back(&attempt).await;
                return Err(refusal(action, scope, wait.unwrap_or(limit.window)));
            }
        }

        if let (Some(backoff), Some(pair)) = (backoff, pair) {
            let count = format!("{prefix}:pair:{pair}");
            let n = self.cache.incr(&count, backoff.memory()).await?;
            attempt.backoff_count = Some(count);
            if let Some(wait) = backoff.wait_after(n) {
                let gate = format!("{prefix}:gate:{pair}");
                if let Some(left) = self.cache.put_if_absent(&gate, "1", wait).await? {
                    self.give_back(&attempt).await;
                    return Err(refusal(action, "backoff", left));
                }
                attempt.gate = Some(gate);
            }
        }
        Ok(attempt)
    }

    async fn settle(&self, attempt: Attempt, outcome: Outcome) {
        if attempt.action.counting() == Counting::Requests {
            return;
        }
        match outcome {
            Outcome::Failed => {}
            Outcome::Undecided => self.give_back(&attempt).await,
            Outcome::Succeeded => {
                self.give_back(&attempt).await;
                for key in attempt.backoff_count.iter().chain(&attempt.gate) {
                    if let Err(err) = self.cache.delete(key).await {
                        tracing::warn!(%err, "could not clear a backoff");
                    }
                }
            }
        }
    }

    /// Returns the units an attempt took; a failure here only leaves a count a little high.
    async fn give_back(&self, attempt: &Attempt) {
        for key in attempt.budgets.iter().chain(&attempt.backoff_count) {
            if let Err(err) = self.cache.decr(key).await {
                tracing::warn!(%err, "could not give back a throttle unit");
            }
        }
    }
}

fn refusal(action: Action, scope: &'static str, wait: Duration) -> AuthError {
    metrics::counter!(telemetry::RATE_LIMITED, "action" => action.name(), "scope" => scope).increment(1);
    AuthError::RateLimited {
        retry_after: wait.max(Duration::from_secs(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::throttle::{Backoff, Limit};
    use crate::storage::memory::MemoryCache;

    const CLIENT: &str = "192.0.2.1";

    fn throttle(policy: ThrottlePolicy) -> Throttle {
        Throttle::new(Arc::new(MemoryCache::default()), policy)
    }

    fn policy(free_failures: u64) -> ThrottlePolicy {
        ThrottlePolicy {
            backoff: Backoff {
                free_failures,
                base: Duration::from_secs(30),
                cap: Duration::from_secs(600),
            },
            ..ThrottlePolicy::default()
        }
    }

    fn per_minute(max: u64) -> Limit {
        Limit {
            max,
            window: Duration::from_secs(60),
        }
    }

    fn who(account: &str, client: &str) -> Attempter<'static> {
        Attempter {
            account: Some(Box::leak(account.to_owned().into_boxed_str())),
            client: client.parse().unwrap(),
        }
    }

    async fn guess(throttle: &Throttle, who: Attempter<'_>, right: bool) -> Result<(), AuthError> {
        throttle
            .attempt(Action::Login, who, async move {
                if right {
                    Ok(())
                } else {
                    Err(AuthError::InvalidCredentials)
                }
            })
            .await
    }

    #[tokio::test]
    async fn after_the_free_failures_the_next_guess_waits() {
        let throttle = throttle(policy(3));
        for _ in 0..3 {
            assert!(matches!(
                guess(&throttle, who("a", CLIENT), false).await,
                Err(AuthError::InvalidCredentials)
            ));
        }
        match guess(&throttle, who("a", CLIENT), true).await {
            Err(AuthError::RateLimited { retry_after }) => assert!(retry_after > Duration::from_secs(25)),
            other => panic!("expected a backoff, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn the_backoff_of_one_address_does_not_lock_out_another() {
        let throttle = throttle(policy(3));
        for _ in 0..3 {
            let _ = guess(&throttle, who("a", CLIENT), false).await;
        }
        assert!(guess(&throttle, who("a", CLIENT), true).await.is_err());
        assert!(guess(&throttle, who("a", "198.51.100.9"), true).await.is_ok());
    }

    #[tokio::test]
    async fn a_success_clears_the_failures_before_it() {
        let throttle = throttle(policy(3));
        for _ in 0..2 {
            let _ = guess(&throttle, who("a", CLIENT), false).await;
        }
        guess(&throttle, who("a", CLIENT), true).await.unwrap();
        for _ in 0..2 {
            assert!(matches!(
                guess(&throttle, who("a", CLIENT), false).await,
                Err(AuthError::InvalidCredentials)
            ));
        }
    }

    #[tokio::test]
    async fn parallel_guesses_never_exceed_the_free_failures() {
        let throttle = throttle(policy(4));
        let judged = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let tasks: Vec<_> = (0..40)
            .map(|_| {
                let (throttle, judged) = (throttle.clone(), judged.clone());
                tokio::spawn(async move {
                    throttle
                        .attempt(Action::Login, who("a", CLIENT), async {
                            judged.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            Err::<(), _>(AuthError::InvalidCredentials)
                        })
                        .await
                })
            })
            .collect();
        for task in tasks {
            let _ = task.await.unwrap();
        }
        assert_eq!(judged.load(std::sync::atomic::Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn the_account_budget_holds_across_addresses() {
        let throttle = throttle(ThrottlePolicy {
            guesses_per_account: per_minute(3),
            ..policy(100)
        });
        for i in 0..3 {
            let client = format!("192.0.2.{}", 10 + i);
            assert!(matches!(
                guess(&throttle, who("a", &client), false).await,
                Err(AuthError::InvalidCredentials)
            ));
        }
        assert!(matches!(
            guess(&throttle, who("a", "203.0.113.1"), true).await,
            Err(AuthError::RateLimited { .. })
        ));
        assert!(guess(&throttle, who("b", "203.0.113.1"), true).await.is_ok());
    }

    #[tokio::test]
    async fn the_address_budget_holds_across_accounts() {
        let throttle = throttle(ThrottlePolicy {
            guesses_per_ip: per_minute(3),
            ..policy(100)
        });
        for account in ["a", "b", "c"] {
            let _ = guess(&throttle, who(account, CLIENT), false).await;
        }
        assert!(matches!(
            guess(&throttle, who("d", CLIENT), true).await,
            Err(AuthError::RateLimited { .. })
        ));
    }

    #[tokio::test]
    async fn requests_count_whatever_their_outcome() {
        let throttle = throttle(ThrottlePolicy {
            requests_per_ip: per_minute(2),
            ..policy(100)
        });
        for _ in 0..2 {
            throttle
                .attempt(Action::SignUp, who("a", CLIENT), async { Ok(()) })
                .await
                .unwrap();
        }
        let refused = throttle
            .attempt(Action::SignUp, who("b", CLIENT), async { Ok(()) })
            .await;
        assert!(matches!(refused, Err(AuthError::RateLimited { .. })));
    }
}
