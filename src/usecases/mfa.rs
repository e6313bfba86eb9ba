//! Second factors: enrolment and validation, recovery codes, and the MFA steps of a login
//! (choose a strategy, submit the code).
//!
//! An enrolment's code is kept with the pending factor in the database; login challenges
//! live in the cache (Redis when configured, so each step may land on a different instance)
//! for [`CODE_TTL`]. Only keyed digests of codes and hashes are stored. Attempts are counted
//! with an atomic increment before any comparison, so parallel guesses cannot exceed
//! [`MAX_CODE_ATTEMPTS`].

use std::net::IpAddr;

use serde_json::json;
use uuid::Uuid;

use super::login::Credential;
use super::throttle::Attempter;
use super::Core;
use crate::actors::mfa::{MfaMsg, MfaSteps};
use crate::crypto::secrets::{random_token, six_digit_code};
use crate::crypto::totp::{self, Provisioning};
use crate::domain::mfa::{
    login_strategies, CodeChallenge, Factor, LoginChallenge, PhoneChannel, Strategy, CODE_TTL, MAX_CODE_ATTEMPTS,
    RECOVERY_CODES_PER_SET,
};
use crate::domain::notification::DeliveryChannel;
use crate::domain::throttle::Action;
use crate::domain::token::Claims;
use crate::domain::user::User;
use crate::domain::AuthError;
use crate::notifications::templates::Template;

/// What enrolling a factor hands back.
#[derive(Debug)]
pub struct Enrolment {
    pub factor_id: Uuid,
    pub strategy: Strategy,
    /// For TOTP: the seed, its URI and QR code, shown this once.
    pub totp: Option<Provisioning>,
}

/// Digest purposes, so a value of one kind never matches another.
const CODE: &str = "mfa-code";
const HASH: &str = "mfa-hash";
const RECOVERY: &str = "recovery-code";

/// Alphabet of recovery codes: no 0/O, 1/I/L look-alikes.
const RECOVERY_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

impl Core {
    /// Enrols a factor for the caller (or, for an admin, `user_id`), disabled until validated.
    /// EMAIL and PHONE send a code now.
    pub async fn enrol_factor(
        &self,
        caller: &Claims,
        strategy: &str,
        channel: Option<&str>,
        user_id: Option<Uuid>,
    ) -> Result<Enrolment, AuthError> {
        let strategy = Strategy::parse_enrollable(strategy)?;
        let channel = match strategy {
            Strategy::Phone => Some(PhoneChannel::parse(channel)?),
            _ => None,
        };
        let user = self.managed_user(caller, user_id).await?;
        if strategy == Strategy::Phone && user.phone.is_none() {
            return Err(AuthError::PhoneRequired);
        }
        let existing = self.mfa.factors_of(user.id).await?;
        if existing.iter().any(|f| f.strategy == strategy && f.enabled) {
            return Err(AuthError::FactorExists);
        }
        let (secret_ciphertext, provisioning) = match strategy {
            Strategy::Totp => {
                let secret = totp::new_secret();
                let provisioning = totp::provisioning(&secret, &self.settings_issuer(), &user.email)
                    .map_err(|_| AuthError::Unavailable("totp"))?;
                (Some(self.secrets.encrypt(&secret)), Some(provisioning))
            }
            _ => (None, None),
        };
        let now = self.clock.unix_now();
        let code = strategy.sends_code().then(six_digit_code);
        let factor = Factor {
            id: Uuid::now_v7(),
            user_id: user.id,
            strategy,
            channel,
            enabled: false,
            secret_ciphertext,
            last_used_step: None,
            code_digest: code.as_ref().map(|c| self.secrets.digest(CODE, c)),
            code_expires_at: code.as_ref().map(|_| now + CODE_TTL.as_secs() as i64),
            created_at: now,
        };
        self.mfa.insert_pending_factor(&factor).await?;
        if let Some(code) = code {
            self.send_code(&user, &factor, &code).await?;
        }
        Ok(Enrolment {
            factor_id: factor.id,
            strategy,
            totp: provisioning,
        })
    }

    /// Enables a factor when `code` is the one sent, or a current TOTP code. Wrong codes are
    /// throttled per factor owner and client.
    pub async fn validate_factor(
        &self,
        caller: &Claims,
        factor_id: Uuid,
        code: &str,
        client: IpAddr,
    ) -> Result<(), AuthError> {
        let factor = self.mfa.factor(factor_id).await?.ok_or(AuthError::NotFound("factor"))?;
        self.managed_user(caller, Some(factor.user_id)).await?;
        if factor.enabled {
            return Err(AuthError::FactorExists);
        }
        let account = factor.user_id.to_string();
        let who = Attempter {
            account: Some(&account),
            client,
        };
        self.throttle
            .attempt(Action::MfaValidate, who, self.check_enrolment_code(factor, code))
            .await
    }

    async fn check_enrolment_code(&self, factor: Factor, code: &str) -> Result<(), AuthError> {
        let attempts = self.mfa.count_validation_attempt(factor.id).await?;
        if attempts > MAX_CODE_ATTEMPTS {
            self.mfa.delete_factor(factor.user_id, factor.id).await?;
            return Err(AuthError::InvalidCode);
        }
        let accepted = match factor.strategy {
            Strategy::Totp => self.totp_accepts(&factor, code).await?,
            _ => {
                let unexpired = factor.code_expires_at.is_some_and(|at| self.clock.unix_now() < at);
                let digest = factor.code_digest.as_deref().unwrap_or_default();
                unexpired && self.secrets.matches(CODE, code, digest)
            }
        };
        if !accepted {
            if attempts == MAX_CODE_ATTEMPTS {
                self.mfa.delete_factor(factor.user_id, factor.id).await?;
            }
            return Err(AuthError::InvalidCode);
        }
        self.mfa.enable_factor(factor.id).await?;
        Ok(())
    }

    /// The caller's factors.
    pub async fn factors(&self, caller: &Claims) -> Result<Vec<Factor>, AuthError> {
        Ok(self.mfa.factors_of(caller.sub).await?)
    }

    /// Removes one of the caller's factors.
    pub async fn delete_factor(&self, caller: &Claims, factor_id: Uuid) -> Result<(), AuthError> {
        if !self.mfa.delete_factor(caller.sub, factor_id).await? {
            return Err(AuthError::NotFound("factor"));
        }
        Ok(())
    }

    /// Makes a new set of recovery codes (replacing the old), shown this once.
    pub async fn new_recovery_codes(&self, caller: &Claims) -> Result<Vec<String>, AuthError> {
        if !self.mfa.factors_of(caller.sub).await?.iter().any(|f| f.enabled) {
            return Err(AuthError::NoValidatedFactor);
        }
        let codes: Vec<String> = (0..RECOVERY_CODES_PER_SET).map(|_| recovery_code()).collect();
        let digests: Vec<String> = codes.iter().map(|c| self.secrets.digest(RECOVERY, c)).collect();
        self.mfa
            .replace_recovery_codes(caller.sub, &digests, self.clock.unix_now())
            .await?;
        Ok(codes)
    }

    /// After a correct password: the strategies to choose from and the hash to choose with,
    /// or `None` when the user has no validated factor.
    pub(crate) async fn second_factor_challenge(
        &self,
        user: &User,
    ) -> Result<Option<(String, Vec<Strategy>)>, AuthError> {
        let factors = self.mfa.factors_of(user.id).await?;
        if !factors.iter().any(|f| f.enabled) {
            return Ok(None);
        }
        let strategies = login_strategies(&factors, self.mfa.has_recovery_codes(user.id).await?);
        let challenge = LoginChallenge {
            user_id: user.id,
            strategies: strategies.clone(),
        };
        let hash = self.store_challenge("login", &challenge).await?;
        Ok(Some((hash, strategies)))
    }

    /// Picks the strategy for this login; sends a code for EMAIL and PHONE. Returns the hash
    /// for the code step; the login hash is used up. Sequenced by the MFA challenge actor;
    /// throttled per user and client.
    pub async fn choose_strategy(&self, hash: &str, strategy: &str, client: IpAddr) -> Result<String, AuthError> {
        let (owned_hash, strategy) = (hash.to_owned(), strategy.to_owned());
        let step = |reply| MfaMsg::Choose {
            hash: owned_hash,
            strategy,
            reply,
        };
        self.throttled_step(Action::MfaChoose, "login", hash, client, step)
            .await
    }

    /// Finishes an MFA login: the right code opens the session. Sequenced by the MFA
    /// challenge actor; wrong codes are throttled per user and client, across challenges.
    pub async fn submit_code(&self, hash: &str, code: &str, client: IpAddr) -> Result<Credential, AuthError> {
        let (owned_hash, code) = (hash.to_owned(), code.to_owned());
        let step = |reply| MfaMsg::Submit {
            hash: owned_hash,
            code,
            reply,
        };
        self.throttled_step(Action::MfaCode, "code", hash, client, step).await
    }

    /// Runs one MFA step through the challenge actor as a throttled attempt by the
    /// challenge's owner (unknown for an unknown hash) from `client`.
    async fn throttled_step<T: Send + 'static>(
        &self,
        action: Action,
        stage: &str,
        hash: &str,
        client: IpAddr,
        step: impl FnOnce(ractor::RpcReplyPort<Result<T, AuthError>>) -> MfaMsg,
    ) -> Result<T, AuthError> {
        let account = self.challenge_owner(stage, hash).await?.map(|id| id.to_string());
        let who = Attempter {
            account: account.as_deref(),
            client,
        };
        let run = async { self.actors.mfa.call(step).await? };
        self.throttle.attempt(action, who, run).await
    }

    /// The choose step itself, as the MFA challenge actor runs it.
    async fn run_choose(&self, hash: &str, strategy: &str) -> Result<String, AuthError> {
        let strategy = Strategy::parse(strategy)?;
        let (key, challenge) = self.load_challenge::<LoginChallenge>("login", hash).await?;
        let strategy = challenge.choose(strategy)?;
        let user = self.take_challenge(&key, challenge.user_id).await?;
        let factor = match strategy {
            Strategy::RecoveryCode => None,
            _ => Some(
                self.mfa
                    .factors_of(user.id)
                    .await?
                    .into_iter()
                    .find(|f| f.strategy == strategy && f.enabled)
                    .ok_or(AuthError::StrategyNotListed)?,
            ),
        };
        let mut code_digest = None;
        if let Some(factor) = factor.as_ref().filter(|f| f.strategy.sends_code()) {
            let code = six_digit_code();
            code_digest = Some(self.secrets.digest(CODE, &code));
            self.send_code(&user, factor, &code).await?;
        }
        let next = CodeChallenge {
            user_id: user.id,
            strategy,
            factor_id: factor.map(|f| f.id),
            code_digest,
        };
        self.store_challenge("code", &next).await
    }

    /// The code step itself, as the MFA challenge actor runs it.
    async fn run_submit(&self, hash: &str, code: &str) -> Result<Credential, AuthError> {
        let (key, challenge) = self.load_challenge::<CodeChallenge>("code", hash).await?;
        let failures = self.cache.incr(&failures_key(&key), CODE_TTL).await?;
        if failures > MAX_CODE_ATTEMPTS {
            self.cache.delete(&key).await?;
            return Err(AuthError::InvalidHash);
        }
        let accepted = match challenge.strategy {
            Strategy::Email | Strategy::Phone => challenge
                .code_digest
                .as_deref()
                .is_some_and(|digest| self.secrets.matches(CODE, code, digest)),
            Strategy::Totp => match challenge.factor_id {
                Some(id) => match self.mfa.factor(id).await? {
                    Some(factor) if factor.enabled => self.totp_accepts(&factor, code).await?,
                    _ => false,
                },
                None => false,
            },
            Strategy::RecoveryCode => {
                let digest = self.secrets.digest(RECOVERY, &code.trim().to_lowercase());
                self.mfa
                    .use_recovery_code(challenge.user_id, &digest, self.clock.unix_now())
                    .await?
            }
        };
        if !accepted {
            if failures == MAX_CODE_ATTEMPTS {
                self.cache.delete(&key).await?;
            }
            return Err(AuthError::InvalidCode);
        }
        let user = self.take_challenge(&key, challenge.user_id).await?;
        self.open_session(user).await
    }

    /// The user the caller may manage factors of: themself, or anyone for an admin.
    async fn managed_user(&self, caller: &Claims, user_id: Option<Uuid>) -> Result<User, AuthError> {
        let me = self.me(caller).await?;
        match user_id {
            None => Ok(me),
            Some(id) if id == me.id => Ok(me),
            Some(_) if !me.is_admin => Err(AuthError::Forbidden(
                "only administrators manage another user's factors",
            )),
            Some(id) => self.users.user_by_id(id).await?.ok_or(AuthError::NotFound("user")),
        }
    }

    async fn send_code(&self, user: &User, factor: &Factor, code: &str) -> Result<(), AuthError> {
        let (channel, recipient) = match (factor.strategy, factor.channel) {
            (Strategy::Phone, Some(PhoneChannel::Whatsapp)) => (DeliveryChannel::Whatsapp, user.phone.clone()),
            (Strategy::Phone, _) => (DeliveryChannel::Sms, user.phone.clone()),
            _ => (DeliveryChannel::Email, Some(user.email.clone())),
        };
        let recipient = recipient.ok_or(AuthError::PhoneRequired)?;
        self.notifier
            .send(Template::MfaCode, channel, &recipient, json!({ "code": code }))
            .await?;
        Ok(())
    }

    /// A current TOTP code whose step was never used for this factor.
    async fn totp_accepts(&self, factor: &Factor, code: &str) -> Result<bool, AuthError> {
        let Some(secret) = factor
            .secret_ciphertext
            .as_deref()
            .and_then(|c| self.secrets.decrypt(c))
        else {
            return Ok(false);
        };
        match totp::matching_step(&secret, code.trim(), self.clock.unix_now()) {
            Some(step) => Ok(self.mfa.claim_totp_step(factor.id, step).await?),
            None => Ok(false),
        }
    }

    /// The challenge of `stage` a client's hash names, and its cache key.
    async fn load_challenge<T: serde::de::DeserializeOwned>(
        &self,
        stage: &str,
        hash: &str,
    ) -> Result<(String, T), AuthError> {
        let key = challenge_key(stage, &self.secrets.digest(HASH, hash));
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
    async fn take_challenge(&self, key: &str, user_id: uuid::Uuid) -> Result<User, AuthError> {
        self.cache.take(key).await?.ok_or(AuthError::InvalidHash)?;
        self.users.user_by_id(user_id).await?.ok_or(AuthError::InvalidHash)
    }

    /// Stores a challenge under the digest of a fresh hash and returns the hash.
    async fn store_challenge(&self, stage: &str, challenge: &impl serde::Serialize) -> Result<String, AuthError> {
        let hash = random_token(32);
        let key = challenge_key(stage, &self.secrets.digest(HASH, &hash));
        let value = serde_json::to_string(challenge).expect("a challenge always serializes");
        self.cache.put(&key, &value, CODE_TTL).await?;
        Ok(hash)
    }

    fn settings_issuer(&self) -> String {
        self.signer.issuer().to_owned()
    }
}

fn challenge_key(stage: &str, hash_digest: &str) -> String {
    format!("mfa:{stage}:{hash_digest}")
}

fn failures_key(key: &str) -> String {
    format!("{key}:failures")
}

/// A recovery code like `k7m2p-9xq4t`: 50 bits from the OS's CSPRNG.
fn recovery_code() -> String {
    use rand::Rng as _;
    let mut rng = rand::rngs::OsRng;
    let mut pick = || RECOVERY_ALPHABET[rng.gen_range(0..RECOVERY_ALPHABET.len())] as char;
    let first: String = (0..5).map(|_| pick()).collect();
    let second: String = (0..5).map(|_| pick()).collect();
    format!("{first}-{second}")
}

#[async_trait::async_trait]
impl MfaSteps for Core {
    async fn choose(&self, hash: &str, strategy: &str) -> Result<String, AuthError> {
        self.run_choose(hash, strategy).await
    }

    async fn submit(&self, hash: &str, code: &str) -> Result<Credential, AuthError> {
        self.run_submit(hash, code).await
    }
}
