//! The second-factor steps of a login: after a correct password a login challenge is
//! stored and its hash handed out; `choose` picks a strategy (sending a code for EMAIL and
//! PHONE) and trades the login hash for a code hash; `submit` checks the code and opens the
//! session. Challenges live in the cache under the digest of their hash, so any instance
//! can take any step; the MFA challenge actor sequences the steps of one challenge.

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::{ExposeSecret as _, SecretString};
use uuid::Uuid;

use super::codes::Codes;
use super::passkeys::Passkeys;
use super::recovery::RecoveryCodes;
use crate::actors::mfa::{MfaMsg, MfaSteps};
use crate::actors::ActorSlot;
use crate::domain::credential::Credential;
use crate::domain::events::{EventKind, Origin, SecurityEvent};
use crate::domain::mfa::{
    login_strategies, ChosenStep, CodeChallenge, CodeVerdict, FactorAnswer, LoginChallenge, Strategy, CODE_TTL,
};
use crate::domain::sign_in_method::SignInMethod;
use crate::domain::throttle::Action;
use crate::domain::user::User;
use crate::domain::AuthError;
use crate::ports::{Cache, Clock, DataKey, MfaStore, OneTimeSecrets, SecurityEvents, UserStore};
use crate::usecases::sessions::Sessions;
use crate::usecases::throttle::{Attempter, Throttle};
use crate::usecases::Ports;

/// Digest purpose of challenge hashes.
const HASH: &str = "mfa-hash";

/// The two stages of a challenge, as its cache key names them.
const LOGIN_STAGE: &str = "login";
const CODE_STAGE: &str = "code";

/// Runs the MFA steps of logins.
pub struct Challenges {
    users: Arc<dyn UserStore>,
    factors: Arc<dyn MfaStore>,
    cache: Arc<dyn Cache>,
    data_key: Arc<dyn DataKey>,
    secrets: Arc<dyn OneTimeSecrets>,
    events: Arc<dyn SecurityEvents>,
    clock: Arc<dyn Clock>,
    codes: Codes,
    recovery: Arc<RecoveryCodes>,
    passkeys: Arc<Passkeys>,
    throttle: Throttle,
    sessions: Arc<Sessions>,
    actor: ActorSlot<MfaMsg>,
}

/// The services a login's second factor is checked with.
pub struct SecondFactors {
    pub recovery: Arc<RecoveryCodes>,
    pub passkeys: Arc<Passkeys>,
}

impl Challenges {
    pub fn new(
        ports: &Ports,
        throttle: Throttle,
        factors: SecondFactors,
        sessions: Arc<Sessions>,
        actor: ActorSlot<MfaMsg>,
    ) -> Self {
        Self {
            users: ports.users.clone(),
            factors: ports.factors.clone(),
            cache: ports.cache.clone(),
            data_key: ports.data_key.clone(),
            secrets: ports.secrets.clone(),
            events: ports.events.clone(),
            clock: ports.clock.clone(),
            codes: Codes::new(ports),
            recovery: factors.recovery,
            passkeys: factors.passkeys,
            throttle,
            sessions,
            actor,
        }
    }

    /// After a correct password (or an upstream provider's sign-in, `upstream` naming it):
    /// the strategies to choose from and the hash to choose with, or `None` when the user
    /// has no validated factor.
    pub(crate) async fn second_factor_challenge(
        &self,
        user: &User,
        upstream: Option<&str>,
    ) -> Result<Option<(String, Vec<Strategy>)>, AuthError> {
        let factors = self.factors.factors_of(user.id).await?;
        if !factors.iter().any(|f| f.enabled) {
            return Ok(None);
        }
        let strategies = login_strategies(&factors, self.factors.has_recovery_codes(user.id).await?);
        let challenge = LoginChallenge {
            user_id: user.id,
            strategies: strategies.clone(),
            upstream: upstream.map(str::to_owned),
        };
        let hash = self.store_challenge(LOGIN_STAGE, &challenge).await?;
        Ok(Some((hash, strategies)))
    }

    /// Whether `code` is a current, unused code of `user_id`'s enabled authenticator app
    /// (a confirmation by a signed-in user; its step is used up). An account without one
    /// is `strategy_not_listed`.
    pub(crate) async fn app_code_confirms(&self, user_id: Uuid, code: &SecretString) -> Result<bool, AuthError> {
        let app = self
            .factors
            .factors_of(user_id)
            .await?
            .into_iter()
            .find(|f| f.strategy == Strategy::Totp && f.enabled)
            .ok_or(AuthError::StrategyNotListed)?;
        self.codes.totp_accepts(&app, code).await
    }

    /// Picks the strategy for this login; sends a code for EMAIL and PHONE, gives request
    /// options for PASSKEY. Returns the code step; the login hash is used up. Throttled per
    /// user and client.
    pub async fn choose_strategy(&self, hash: &str, strategy: &str, origin: &Origin) -> Result<ChosenStep, AuthError> {
        let (owned_hash, strategy) = (hash.to_owned(), strategy.to_owned());
        let step = |reply| MfaMsg::Choose {
            hash: owned_hash,
            strategy,
            reply,
        };
        self.throttled_step(Action::MfaChoose, LOGIN_STAGE, hash, origin, step)
            .await
    }

    /// Finishes an MFA login: the right code (or passkey assertion) opens the session. Wrong
    /// answers are throttled per user and client, across challenges.
    pub async fn submit_code(
        &self,
        hash: &str,
        answer: FactorAnswer,
        origin: &Origin,
    ) -> Result<Credential, AuthError> {
        let step = |reply| MfaMsg::Submit {
            hash: hash.to_owned(),
            answer,
            origin: origin.clone(),
            reply,
        };
        self.throttled_step(Action::MfaCode, CODE_STAGE, hash, origin, step)
            .await
    }

    /// Runs one step through the challenge actor as a throttled attempt by the challenge's
    /// owner (unknown for an unknown hash) from `origin`; a wrong guess is an event.
    async fn throttled_step<T: Send + 'static>(
        &self,
        action: Action,
        stage: &'static str,
        hash: &str,
        origin: &Origin,
        step: impl FnOnce(ractor::RpcReplyPort<Result<T, AuthError>>) -> MfaMsg,
    ) -> Result<T, AuthError> {
        let owner = self.challenge_owner(stage, hash).await?;
        let account = owner.map(|id| id.to_string());
        let who = Attempter {
            account: account.as_deref(),
            client: origin.ip,
        };
        let run = async { self.actor.call(step).await? };
        let result = self.throttle.attempt(action, who, run).await;
        if let Err(err) = &result {
            if err.is_failed_guess() || matches!(err, AuthError::RateLimited { .. }) {
                let event = SecurityEvent::new(EventKind::MfaFailed, owner, self.clock.stamp())
                    .from(origin)
                    .with("stage", stage)
                    .with("reason", error_reason(err));
                self.events.record(event).await;
            }
        }
        result
    }

    /// The choose step itself, as the MFA challenge actor runs it.
    async fn run_choose(&self, hash: &str, strategy: &str) -> Result<ChosenStep, AuthError> {
        let strategy = Strategy::parse(strategy)?;
        let (key, challenge) = self.load_challenge::<LoginChallenge>(LOGIN_STAGE, hash).await?;
        let strategy = challenge.choose(strategy)?;
        let user = self.take_challenge(&key, challenge.user_id).await?;
        let factor = match strategy {
            Strategy::RecoveryCode => None,
            _ => Some(
                self.factors
                    .factors_of(user.id)
                    .await?
                    .into_iter()
                    .find(|f| f.strategy == strategy && f.enabled)
                    .ok_or(AuthError::StrategyNotListed)?,
            ),
        };
        let mut code_digest = None;
        if let Some(factor) = factor.as_ref().filter(|f| f.strategy.sends_code()) {
            let (code, digest) = self.codes.fresh();
            code_digest = Some(digest);
            self.codes.send(&user, factor, code).await?;
        }
        let (public_key, passkey_state) = match strategy {
            Strategy::Passkey => {
                let (options, state) = self.passkeys.request_options(user.id).await?;
                (Some(options), Some(state))
            }
            _ => (None, None),
        };
        let next = CodeChallenge {
            user_id: user.id,
            strategy,
            factor_id: factor.filter(|f| f.strategy != Strategy::Passkey).map(|f| f.id),
            code_digest,
            passkey_state,
            upstream: challenge.upstream,
        };
        let hash = self.store_challenge(CODE_STAGE, &next).await?;
        Ok(ChosenStep { hash, public_key })
    }

    /// The code step itself, as the MFA challenge actor runs it.
    async fn run_submit(&self, hash: &str, answer: &FactorAnswer, origin: &Origin) -> Result<Credential, AuthError> {
        let (key, challenge) = self.load_challenge::<CodeChallenge>(CODE_STAGE, hash).await?;
        let attempt = self.cache.incr(&failures_key(&key), CODE_TTL).await?;
        let matched = match CodeVerdict::may_compare(attempt) {
            false => None,
            true => Some(self.answer_matches(&challenge, answer, origin).await?),
        };
        let verdict = CodeVerdict::of(attempt, matched);
        if verdict.voids() {
            self.cache.delete(&key).await?;
        }
        match verdict {
            CodeVerdict::Accepted => {
                let user = self.take_challenge(&key, challenge.user_id).await?;
                let proof = SignInMethod::then(challenge.upstream.is_some(), challenge.strategy);
                self.sessions
                    .open_by(&user, proof, challenge.upstream.as_deref(), origin)
                    .await
            }
            CodeVerdict::Exhausted => Err(AuthError::InvalidHash),
            CodeVerdict::Wrong | CodeVerdict::WrongAndSpent => Err(AuthError::InvalidCode),
        }
    }

    /// Whether `answer` answers the challenge, by its strategy.
    async fn answer_matches(
        &self,
        challenge: &CodeChallenge,
        answer: &FactorAnswer,
        origin: &Origin,
    ) -> Result<bool, AuthError> {
        let code = match (answer, challenge.strategy) {
            (FactorAnswer::Passkey(response), Strategy::Passkey) => {
                let state = challenge.passkey_state.as_deref().unwrap_or_default();
                return self
                    .passkeys
                    .accepts(challenge.user_id, response, state, false, Some(origin))
                    .await;
            }
            (FactorAnswer::Code(code), strategy) if strategy != Strategy::Passkey => code,
            _ => return Ok(false),
        };
        Ok(match challenge.strategy {
            Strategy::Email | Strategy::Phone => challenge
                .code_digest
                .as_deref()
                .is_some_and(|digest| self.codes.matches(code, digest)),
            Strategy::Totp => match challenge.factor_id {
                Some(id) => match self.factors.factor(id).await? {
                    Some(factor) if factor.enabled => self.codes.totp_accepts(&factor, code).await?,
                    _ => false,
                },
                None => false,
            },
            Strategy::RecoveryCode => self.recovery.use_code(challenge.user_id, code).await?,
            Strategy::Passkey => false,
        })
    }

    /// The challenge of `stage` a client's hash names, and its cache key.
    async fn load_challenge<T: serde::de::DeserializeOwned>(
        &self,
        stage: &str,
        hash: &str,
    ) -> Result<(String, T), AuthError> {
        let key = challenge_key(stage, &self.data_key.digest(HASH, hash));
        let stored = self.cache.get(&key).await?.ok_or(AuthError::InvalidHash)?;
        let challenge = serde_json::from_str(&stored).map_err(|_| AuthError::InvalidHash)?;
        Ok((key, challenge))
    }

    /// The user a challenge belongs to, without using it; `None` for an unknown hash.
    async fn challenge_owner(&self, stage: &str, hash: &str) -> Result<Option<Uuid>, AuthError> {
        #[derive(serde::Deserialize)]
        struct Owner {
            user_id: Uuid,
        }
        match self.load_challenge::<Owner>(stage, hash).await {
            Ok((_, owner)) => Ok(Some(owner.user_id)),
            Err(AuthError::InvalidHash) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Uses a challenge up (only one concurrent caller succeeds) and returns its user.
    async fn take_challenge(&self, key: &str, user_id: Uuid) -> Result<User, AuthError> {
        self.cache.take(key).await?.ok_or(AuthError::InvalidHash)?;
        self.users.user_by_id(user_id).await?.ok_or(AuthError::InvalidHash)
    }

    /// Stores a challenge under the digest of a fresh hash and returns the hash.
    async fn store_challenge(&self, stage: &str, challenge: &impl serde::Serialize) -> Result<String, AuthError> {
        let hash = self.secrets.random_token(32);
        let key = challenge_key(stage, &self.data_key.digest(HASH, hash.expose_secret()));
        let value = serde_json::to_string(challenge).expect("a challenge always serializes");
        self.cache.put(&key, &value, CODE_TTL).await?;
        Ok(hash.expose_secret().to_owned())
    }
}

#[async_trait]
impl MfaSteps for Challenges {
    async fn choose(&self, hash: &str, strategy: &str) -> Result<ChosenStep, AuthError> {
        self.run_choose(hash, strategy).await
    }

    async fn submit(&self, hash: &str, answer: &FactorAnswer, origin: &Origin) -> Result<Credential, AuthError> {
        self.run_submit(hash, answer, origin).await
    }
}

fn challenge_key(stage: &str, hash_digest: &str) -> String {
    format!("mfa:{stage}:{hash_digest}")
}

fn failures_key(key: &str) -> String {
    format!("{key}:failures")
}

/// The stable reason of a refused step, for its event.
fn error_reason(err: &AuthError) -> &'static str {
    match err {
        AuthError::InvalidCode => "invalid_code",
        AuthError::InvalidHash => "invalid_hash",
        AuthError::RateLimited { .. } => "rate_limited",
        _ => "invalid_credentials",
    }
}
