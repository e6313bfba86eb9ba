//! A sign-in in progress, as one object every way in shares (the way Kratos keeps a login
//! flow): where it stands, whether it must be a fresh sign-in, and what comes once it is
//! done: an own page, or an OpenID Connect authorization to resume. The browser holds only
//! the flow's random id (in the page's address or a form field); the flow itself lives
//! server-side (the cache port), bound to the browser that started it, so any instance
//! continues it and nothing about it can be edited by hand or replayed from another browser.

use serde::{Deserialize, Serialize};

use uuid::Uuid;

use super::authorization::AuthorizationRequest;
use super::mfa::Strategy;

/// How long a sign-in may take from its first page to its last.
pub const FLOW_TTL_SECS: i64 = 900;

/// How long a round trip to an upstream provider may take (its `state` lives as long).
pub const UPSTREAM_TTL_SECS: i64 = 600;

/// Where a sign-in stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    /// Waiting for the password or a passkey.
    Credentials,
    /// The password was right; one of `strategies` is to be chosen with the challenge `hash`.
    ChooseFactor { strategies: Vec<Strategy>, hash: String },
    /// `strategy` was chosen; its code (or passkey) is awaited with the challenge `hash`.
    AnswerFactor { strategy: Strategy, hash: String },
    /// Signed in through this flow; what comes next may go on.
    SignedIn,
    /// The person is asked to allow the authorization the flow resumes.
    Consent,
    /// Gone to the upstream provider `provider`, whose answer comes back to its callback
    /// with this flow's id as `state`; the secrets that answer must match stay here.
    Upstream {
        provider: String,
        /// The ID token's expected `nonce` (OpenID Connect kinds).
        nonce: Option<String>,
        /// The PKCE verifier of the `code_challenge` sent.
        pkce_verifier: String,
        /// The signed-in account to link the identity to (`?link=1`), if any.
        link_to: Option<Uuid>,
    },
}

/// An upstream identity waiting to be linked to `user_id` once its owner has proved that
/// account with its own credentials (API.md part 3, rule 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLink {
    pub user_id: Uuid,
    pub provider: String,
    /// The provider's name, for the page that asks for the proof.
    pub provider_name: String,
    pub subject: String,
    pub email: Option<String>,
}

/// What comes once the person is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Then {
    /// An own path (already checked); `None`: the account page.
    Page(Option<String>),
    /// An application's authorization request, to decide again once signed in.
    Authorization(Box<AuthorizationRequest>),
}

/// A sign-in in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInFlow {
    pub stage: Stage,
    pub then: Then,
    /// The person must sign in even if the browser already is (`prompt=login`, `max_age`).
    pub fresh: bool,
    /// The browser the flow belongs to (see `SignInFlows`); no other may continue it.
    pub browser: String,
    /// Unix seconds after which the flow is over.
    pub expires_at: i64,
    /// An upstream identity to link once the person has signed in to its account.
    #[serde(default)]
    pub link: Option<PendingLink>,
}

impl SignInFlow {
    /// A sign-in for `browser` at `stage` from `now` on, leading to `then`.
    pub fn start(stage: Stage, then: Then, browser: &str, now: i64) -> Self {
        Self {
            stage,
            then,
            fresh: false,
            browser: browser.to_owned(),
            expires_at: now + FLOW_TTL_SECS,
            link: None,
        }
    }

    /// The same flow, requiring a new sign-in whatever the browser's session.
    pub fn fresh(self) -> Self {
        Self { fresh: true, ..self }
    }

    /// Whether the flow may still be continued at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        now < self.expires_at
    }

    /// The flow back at its first step (its second-factor challenge expired or was used
    /// up), keeping where it leads.
    pub fn start_over(self) -> Self {
        self.at(Stage::Credentials)
    }

    /// The flow at `stage`, the rest kept.
    pub fn at(self, stage: Stage) -> Self {
        Self { stage, ..self }
    }

    /// The authorization the flow resumes, if it resumes one.
    pub fn authorization(&self) -> Option<&AuthorizationRequest> {
        match &self.then {
            Then::Authorization(request) => Some(request),
            Then::Page(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn authorization() -> AuthorizationRequest {
        let parameters: HashMap<String, String> = [
            ("response_type", "code"),
            ("client_id", "notes"),
            ("redirect_uri", "https://notes.example/cb"),
            ("scope", "openid email"),
            ("state", "s t"),
            ("code_challenge", "abc"),
            ("code_challenge_method", "S256"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        AuthorizationRequest::parse(&parameters)
    }

    #[test]
    fn a_flow_lives_its_time_and_starts_over_keeping_its_destination() {
        let then = Then::Page(Some("/ui/account?done=profile".into()));
        let flow = SignInFlow::start(Stage::Credentials, then, "b", 1_000).fresh();
        assert!(flow.is_live(1_000 + FLOW_TTL_SECS - 1));
        assert!(!flow.is_live(1_000 + FLOW_TTL_SECS));
        let chosen = flow.clone().at(Stage::AnswerFactor {
            strategy: Strategy::Totp,
            hash: "h".into(),
        });
        let again = chosen.start_over();
        assert_eq!(again.stage, Stage::Credentials);
        assert_eq!(again.then, flow.then);
        assert!(again.fresh);
    }

    #[test]
    fn a_flow_and_the_authorization_it_resumes_survive_storage() {
        let flow = SignInFlow {
            stage: Stage::ChooseFactor {
                strategies: vec![Strategy::Email, Strategy::RecoveryCode],
                hash: "a-b".into(),
            },
            then: Then::Authorization(Box::new(authorization())),
            fresh: false,
            browser: "b".into(),
            expires_at: 9,
            link: None,
        };
        let stored = serde_json::to_string(&flow).unwrap();
        assert_eq!(serde_json::from_str::<SignInFlow>(&stored).unwrap(), flow);
    }
}
