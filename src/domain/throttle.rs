//! Throttling rules: which actions are limited, by how much, and how long a client waits
//! once it keeps failing.
//!
//! Three budgets apply to each attempt:
//! - per account, from anywhere (slows a distributed guess at one account);
//! - per client IP, across accounts (slows one client spraying many accounts);
//! - per account *and* IP, with exponential backoff: after a few free failures each further
//!   failure doubles the wait. This is the one that stops a single attacker quickly, and it
//!   never touches the real user, who signs in from another address.
//!
//! Guessing actions (password, codes, hashes) count failed attempts; a success gives its
//! attempt back and clears the backoff. Actions that cost the server or a mailbox but hide
//! their outcome (sign-up, reset e-mails) count every request.

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

/// A throttled action; the name keys its counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Login,
    PasswordChange,
    MfaChoose,
    MfaCode,
    MfaValidate,
    PasswordForget,
    SignUp,
}

/// What an action's budgets count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// Failed attempts: a success returns its unit and clears the backoff.
    FailedGuesses,
    /// Every request.
    Requests,
}

impl Action {
    /// Stable name, used in counter keys and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::PasswordChange => "password_change",
            Self::MfaChoose => "mfa_choose",
            Self::MfaCode => "mfa_code",
            Self::MfaValidate => "mfa_validate",
            Self::PasswordForget => "password_forget",
            Self::SignUp => "sign_up",
        }
    }

    pub fn counting(self) -> Counting {
        match self {
            Self::PasswordForget | Self::SignUp => Counting::Requests,
            _ => Counting::FailedGuesses,
        }
    }
}

/// At most `max` units per `window`, the window starting at the first unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u64,
    pub window: Duration,
}

impl Limit {
    /// Whether the `n`th unit of a window (1-based) is over the limit.
    pub fn exceeded_by(self, n: u64) -> bool {
        n > self.max
    }
}

/// Exponential backoff per account and IP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Failures allowed back to back before any wait.
    pub free_failures: u64,
    /// Wait after the first failure beyond the free ones; each further failure doubles it.
    pub base: Duration,
    /// Longest wait.
    pub cap: Duration,
}

impl Backoff {
    /// How long the next attempt must wait once attempt `n` (1-based, counted since the last
    /// success) has started; `None` while fewer than `free_failures` attempts came before.
    pub fn wait_after(self, n: u64) -> Option<Duration> {
        let doublings = n.checked_sub(self.free_failures)?;
        if doublings >= 31 {
            return Some(self.cap);
        }
        Some(self.base.saturating_mul(1 << doublings).min(self.cap))
    }

    /// How long the attempt count is remembered: long enough to outlast the longest wait.
    pub fn memory(self) -> Duration {
        self.cap.saturating_mul(2).max(Duration::from_secs(3600))
    }
}

/// The client a per-IP budget belongs to: an IPv4 address, or the /64 network of an IPv6
/// one (a single host commonly holds a whole /64).
pub fn client_bucket(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", Ipv6Addr::from(network))
            }
        },
    }
}

/// The limits of every action, from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failed guesses at one account, from any address.
    pub guesses_per_account: Limit,
    /// Failed guesses from one address, at any account.
    pub guesses_per_ip: Limit,
    pub backoff: Backoff,
    /// Sign-ups and reset requests naming one email address.
    pub requests_per_account: Limit,
    /// Sign-ups and reset requests from one address.
    pub requests_per_ip: Limit,
}

impl ThrottlePolicy {
    pub fn account_limit(&self, action: Action) -> Limit {
        match action.counting() {
            Counting::FailedGuesses => self.guesses_per_account,
            Counting::Requests => self.requests_per_account,
        }
    }

    pub fn ip_limit(&self, action: Action) -> Limit {
        match action.counting() {
            Counting::FailedGuesses => self.guesses_per_ip,
            Counting::Requests => self.requests_per_ip,
        }
    }

    /// The backoff of guessing actions; request-counted actions have none.
    pub fn backoff(&self, action: Action) -> Option<Backoff> {
        (action.counting() == Counting::FailedGuesses).then_some(self.backoff)
    }
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        let quarter_hour = Duration::from_secs(900);
        Self {
            // 25 per quarter hour: at most 100 failures an hour, the ASVS 2.2.1 bound.
            guesses_per_account: Limit {
                max: 25,
                window: quarter_hour,
            },
            guesses_per_ip: Limit {
                max: 200,
                window: quarter_hour,
            },
            backoff: Backoff {
                free_failures: 5,
                base: Duration::from_secs(1),
                cap: quarter_hour,
            },
            requests_per_account: Limit {
                max: 10,
                window: quarter_hour,
            },
            requests_per_ip: Limit {
                max: 100,
                window: quarter_hour,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKOFF: Backoff = Backoff {
        free_failures: 3,
        base: Duration::from_secs(1),
        cap: Duration::from_secs(60),
    };

    #[test]
    fn the_free_failures_wait_for_nothing() {
        for n in 0..3 {
            assert_eq!(BACKOFF.wait_after(n), None, "attempt {n}");
        }
    }

    #[test]
    fn each_failure_beyond_the_free_ones_doubles_the_wait_up_to_the_cap() {
        let waits: Vec<u64> = (3..=10).map(|n| BACKOFF.wait_after(n).unwrap().as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(BACKOFF.wait_after(u64::MAX), Some(BACKOFF.cap));
        assert_eq!(BACKOFF.wait_after(40), Some(BACKOFF.cap));
    }

    #[test]
    fn counts_are_remembered_longer_than_the_longest_wait() {
        assert!(BACKOFF.memory() > BACKOFF.cap);
        let long = Backoff {
            cap: Duration::from_secs(7200),
            ..BACKOFF
        };
        assert!(long.memory() > long.cap);
    }

    #[test]
    fn ipv6_clients_are_grouped_by_their_64_bit_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_bucket(a), client_bucket(b));
        assert_ne!(client_bucket(a), client_bucket(other));
        assert_eq!(client_bucket("192.0.2.7".parse().unwrap()), "192.0.2.7");
        assert_eq!(client_bucket("::ffff:192.0.2.7".parse().unwrap()), "192.0.2.7");
    }

    #[test]
    fn a_limit_is_exceeded_only_past_its_maximum() {
        let limit = Limit {
            max: 2,
            window: Duration::from_secs(1),
        };
        assert!(!limit.exceeded_by(1));
        assert!(!limit.exceeded_by(2));
        assert!(limit.exceeded_by(3));
    }

    #[test]
    fn guessing_actions_back_off_and_request_actions_do_not() {
        let policy = ThrottlePolicy::default();
        for action in [
            Action::Login,
            Action::PasswordChange,
            Action::MfaChoose,
            Action::MfaCode,
            Action::MfaValidate,
        ] {
            assert_eq!(policy.backoff(action), Some(policy.backoff), "{action:?}");
            assert_eq!(policy.account_limit(action), policy.guesses_per_account);
            assert_eq!(policy.ip_limit(action), policy.guesses_per_ip);
        }
        for action in [Action::SignUp, Action::PasswordForget] {
            assert_eq!(policy.backoff(action), None, "{action:?}");
            assert_eq!(policy.account_limit(action), policy.requests_per_account);
            assert_eq!(policy.ip_limit(action), policy.requests_per_ip);
        }
    }
}
