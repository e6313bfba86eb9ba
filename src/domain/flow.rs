//! A sign-in in progress, as one object the pages share (the way Kratos keeps a login
//! flow): where it stands and where the person goes once it is done. It is made when a
//! sign-in needs more than one request (a second factor after the password), so an
//! anonymous visit stores nothing. The browser holds only the flow's id, in a cookie; the
//! flow itself lives server-side (the cache port), so any instance continues it and
//! nothing about it can be edited by hand.

use serde::{Deserialize, Serialize};

use super::mfa::Strategy;

/// How long a sign-in may take from its first page to its last.
pub const FLOW_TTL_SECS: i64 = 900;

/// Where a sign-in stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    /// Waiting for the password or a passkey.
    Credentials,
    /// The password was right; one of `strategies` is to be chosen with the challenge `hash`.
    ChooseFactor { strategies: Vec<Strategy>, hash: String },
    /// `strategy` was chosen; its code (or passkey) is awaited with the challenge `hash`.
    AnswerFactor { strategy: Strategy, hash: String },
}

/// A sign-in in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInFlow {
    pub stage: Stage,
    /// An own path to go to once signed in; `None`: the account page.
    pub return_to: Option<String>,
    /// Unix seconds after which the flow is over.
    pub expires_at: i64,
}

impl SignInFlow {
    /// A sign-in at `stage` from `now` on, leading to `return_to`.
    pub fn start(stage: Stage, return_to: Option<String>, now: i64) -> Self {
        Self {
            stage,
            return_to,
            expires_at: now + FLOW_TTL_SECS,
        }
    }

    /// Whether the flow may still be continued at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        now < self.expires_at
    }

    /// The flow back at its first step (its second-factor challenge expired or was used
    /// up), keeping where it leads.
    pub fn start_over(self) -> Self {
        Self {
            stage: Stage::Credentials,
            ..self
        }
    }

    /// The flow at `stage`, the rest kept.
    pub fn at(self, stage: Stage) -> Self {
        Self { stage, ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flow_lives_its_time_and_starts_over_keeping_its_destination() {
        let flow = SignInFlow::start(Stage::Credentials, Some("/ui/account?done=profile".into()), 1_000);
        assert!(flow.is_live(1_000 + FLOW_TTL_SECS - 1));
        assert!(!flow.is_live(1_000 + FLOW_TTL_SECS));
        let chosen = flow.clone().at(Stage::AnswerFactor {
            strategy: Strategy::Totp,
            hash: "h".into(),
        });
        let again = chosen.start_over();
        assert_eq!(again.stage, Stage::Credentials);
        assert_eq!(again.return_to, flow.return_to);
    }

    #[test]
    fn a_flow_survives_its_storage() {
        let flow = SignInFlow {
            stage: Stage::ChooseFactor {
                strategies: vec![Strategy::Email, Strategy::RecoveryCode],
                hash: "a-b".into(),
            },
            return_to: None,
            expires_at: 9,
        };
        let stored = serde_json::to_string(&flow).unwrap();
        assert_eq!(serde_json::from_str::<SignInFlow>(&stored).unwrap(), flow);
    }
}
