//! Enrolling second factors: a factor starts disabled and is enabled by proving it (the
//! code sent for EMAIL and PHONE, a current code for TOTP); listing and removing them.

use std::sync::Arc;

use secrecy::{ExposeSecret as _, SecretString};
use uuid::Uuid;

use super::codes::Codes;
use super::passkeys::Passkeys;
use crate::domain::events::{EventKind, Origin, SecurityEvent};
use crate::domain::mfa::{CodeVerdict, Factor, PhoneChannel, Strategy, TotpProvisioning, CODE_TTL};
use crate::domain::notification::SecurityNotice;
use crate::domain::throttle::Action;
use crate::domain::token::Claims;
use crate::domain::user::User;
use crate::domain::AuthError;
use crate::ports::{Clock, DataKey, MfaStore, OneTimeSecrets, SecurityEvents, UserStore};
use crate::usecases::notices::Notices;
use crate::usecases::reauth::Reauthentication;
use crate::usecases::throttle::{Attempter, Throttle};
use crate::usecases::{account_of, Ports};

/// What enrolling a factor hands back.
#[derive(Debug)]
pub struct EnrolledFactor {
    pub factor_id: Uuid,
    pub strategy: Strategy,
    /// For TOTP: the seed, its URI and QR code, shown this once.
    pub totp: Option<TotpProvisioning>,
    /// For PASSKEY: the creation options (`PublicKeyCredentialCreationOptionsJSON`).
    pub public_key: Option<serde_json::Value>,
}

/// Enrols, validates, lists and removes factors.
pub struct Enrolment {
    users: Arc<dyn UserStore>,
    factors: Arc<dyn MfaStore>,
    data_key: Arc<dyn DataKey>,
    secrets: Arc<dyn OneTimeSecrets>,
    events: Arc<dyn SecurityEvents>,
    clock: Arc<dyn Clock>,
    codes: Codes,
    throttle: Throttle,
    notices: Arc<Notices>,
    passkeys: Arc<Passkeys>,
    reauth: Reauthentication,
    /// Shown in authenticator apps beside the account.
    issuer: String,
}

impl Enrolment {
    pub fn new(
        ports: &Ports,
        throttle: Throttle,
        notices: Arc<Notices>,
        passkeys: Arc<Passkeys>,
        reauth: Reauthentication,
    ) -> Self {
        Self {
            reauth,
            users: ports.users.clone(),
            factors: ports.factors.clone(),
            data_key: ports.data_key.clone(),
            secrets: ports.secrets.clone(),
            events: ports.events.clone(),
            clock: ports.clock.clone(),
            codes: Codes::new(ports),
            throttle,
            notices,
            passkeys,
            issuer: ports.signer.issuers().native.clone(),
        }
    }

    /// Enrols a factor for the caller (or, for an admin, `user_id`), disabled until validated.
    /// EMAIL and PHONE send a code now; PASSKEY answers creation options (a user may hold
    /// several passkeys, each with a `name`).
    pub async fn enrol_factor(
        &self,
        caller: &Claims,
        strategy: &str,
        channel: Option<&str>,
        user_id: Option<Uuid>,
        name: Option<&str>,
    ) -> Result<EnrolledFactor, AuthError> {
        let strategy = Strategy::parse_enrollable(strategy)?;
        if strategy == Strategy::Passkey {
            let user = self.managed_user(caller, user_id).await?;
            let (factor_id, options) = self.passkeys.start_registration(&user, name).await?;
            return Ok(EnrolledFactor {
                factor_id,
                strategy,
                totp: None,
                public_key: Some(options),
            });
        }
        let channel = match strategy {
            Strategy::Phone => Some(PhoneChannel::parse(channel)?),
            _ => None,
        };
        let user = self.managed_user(caller, user_id).await?;
        if strategy == Strategy::Phone && user.phone.is_none() {
            return Err(AuthError::PhoneRequired);
        }
        let existing = self.factors.factors_of(user.id).await?;
        if existing.iter().any(|f| f.strategy == strategy && f.enabled) {
            return Err(AuthError::FactorExists);
        }
        let (secret_ciphertext, provisioning) = match strategy {
            Strategy::Totp => {
                let seed = self.secrets.totp_seed();
                let provisioning =
                    self.secrets
                        .totp_provisioning(seed.expose_secret(), &self.issuer, user.email.as_str())?;
                (Some(self.data_key.seal(seed.expose_secret())), Some(provisioning))
            }
            _ => (None, None),
        };
        let now = self.clock.unix_now();
        let code = strategy.sends_code().then(|| self.codes.fresh());
        let factor = Factor {
            id: self.clock.new_id(),
            user_id: user.id,
            strategy,
            channel,
            enabled: false,
            secret_ciphertext,
            last_used_step: None,
            code_digest: code.as_ref().map(|(_, digest)| digest.clone()),
            code_expires_at: code.as_ref().map(|_| now + CODE_TTL.as_secs() as i64),
            name: None,
            created_at: now,
        };
        self.factors.insert_pending_factor(&factor).await?;
        if let Some((code, _)) = code {
            self.codes.send(&user, &factor, code).await?;
        }
        Ok(EnrolledFactor {
            factor_id: factor.id,
            strategy,
            totp: provisioning,
            public_key: None,
        })
    }

    /// Enables a factor when `code` is the one sent, or a current TOTP code. Wrong codes are
    /// throttled per factor owner and client.
    pub async fn validate_factor(
        &self,
        caller: &Claims,
        factor_id: Uuid,
        code: &SecretString,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        let factor = self
            .factors
            .factor(factor_id)
            .await?
            .ok_or(AuthError::NotFound("factor"))?;
        let owner_account = self.managed_user(caller, Some(factor.user_id)).await?;
        if factor.enabled {
            return Err(AuthError::FactorExists);
        }
        let (owner, strategy) = (factor.user_id, factor.strategy);
        let account = owner.to_string();
        let who = Attempter {
            account: Some(&account),
            client: origin.ip,
        };
        let event = |kind| {
            SecurityEvent::new(kind, Some(owner), self.clock.stamp())
                .from(origin)
                .with("strategy", strategy.as_str())
                .with("factorId", factor_id.to_string())
        };
        let added = event(EventKind::MfaFactorAdded);
        let failed = event(EventKind::MfaFailed)
            .with("reason", "invalid_code")
            .with("stage", "enrolment");
        let checked = self
            .throttle
            .attempt(
                Action::MfaValidate,
                who,
                self.check_enrolment_code(factor, code, &added, &failed),
            )
            .await;
        if checked.is_ok() {
            let notice = SecurityNotice::FactorAdded {
                strategy: strategy.as_str(),
            };
            self.notices.tell(&owner_account.email, notice).await;
        }
        checked
    }

    /// Adds the passkey of the registration `factor_id` when `credential` (the
    /// `RegistrationResponseJSON`) answers its challenge; throttled like codes.
    pub async fn validate_passkey(
        &self,
        caller: &Claims,
        factor_id: Uuid,
        credential: &serde_json::Value,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        let owner = self
            .passkeys
            .registration_owner(factor_id)
            .await?
            .ok_or(AuthError::InvalidPasskey)?;
        let owner_account = self.managed_user(caller, Some(owner)).await?;
        let account = owner.to_string();
        let who = Attempter {
            account: Some(&account),
            client: origin.ip,
        };
        let finished = self.passkeys.finish_registration(factor_id, credential, origin);
        let checked = self.throttle.attempt(Action::MfaValidate, who, finished).await;
        match &checked {
            Ok(()) => {
                let notice = SecurityNotice::FactorAdded { strategy: "PASSKEY" };
                self.notices.tell(&owner_account.email, notice).await;
            }
            Err(err) if err.is_failed_guess() => {
                let event = SecurityEvent::new(EventKind::MfaFailed, Some(owner), self.clock.stamp())
                    .from(origin)
                    .with("strategy", "PASSKEY")
                    .with("stage", "enrolment")
                    .with("reason", "invalid_passkey");
                self.events.record(event).await;
            }
            Err(_) => {}
        }
        checked
    }

    /// Checks the code; `added` is written with the enabling, `failed` with a wrong code
    /// (and with the voiding of the enrolment when that was its last chance).
    async fn check_enrolment_code(
        &self,
        factor: Factor,
        code: &SecretString,
        added: &SecurityEvent,
        failed: &SecurityEvent,
    ) -> Result<(), AuthError> {
        let attempt = self.factors.count_validation_attempt(factor.id).await?;
        let matched = match CodeVerdict::may_compare(attempt) {
            false => None,
            true if factor.strategy == Strategy::Totp => Some(self.codes.totp_accepts(&factor, code).await?),
            true => {
                let unexpired = factor.code_expires_at.is_some_and(|at| self.clock.unix_now() < at);
                let digest = factor.code_digest.as_deref().unwrap_or_default();
                Some(unexpired && self.codes.matches(code, digest))
            }
        };
        let verdict = CodeVerdict::of(attempt, matched);
        match verdict {
            CodeVerdict::Accepted => {
                self.factors.enable_factor(factor.id, added).await?;
                Ok(())
            }
            _ if verdict.voids() => {
                self.factors.delete_factor(factor.user_id, factor.id, failed).await?;
                Err(AuthError::InvalidCode)
            }
            _ => {
                self.events.record(failed.clone()).await;
                Err(AuthError::InvalidCode)
            }
        }
    }

    /// The caller's factors, those not validated yet included (a passkey registration only
    /// while it can still be answered).
    pub async fn factors(&self, caller: &Claims) -> Result<Vec<Factor>, AuthError> {
        let now = self.clock.unix_now();
        let mut factors = self.factors.factors_of(caller.sub).await?;
        factors.retain(|f| f.strategy != Strategy::Passkey || f.code_expires_at.is_none_or(|at| now < at));
        Ok(factors)
    }

    /// Removes one of the caller's factors; a validated one only from a session that
    /// authenticated recently (a pending enrolment protects nothing yet).
    pub async fn delete_factor(&self, caller: &Claims, factor_id: Uuid, origin: &Origin) -> Result<(), AuthError> {
        let factor = self
            .factors
            .factors_of(caller.sub)
            .await?
            .into_iter()
            .find(|factor| factor.id == factor_id)
            .ok_or(AuthError::NotFound("factor"))?;
        if factor.enabled {
            self.reauth.ensure_recent(caller).await?;
        }
        let event = SecurityEvent::new(EventKind::MfaFactorRemoved, Some(caller.sub), self.clock.stamp())
            .from(origin)
            .with("strategy", factor.strategy.as_str())
            .with("factorId", factor_id.to_string());
        if !self.factors.delete_factor(caller.sub, factor_id, &event).await? {
            return Err(AuthError::NotFound("factor"));
        }
        if factor.enabled {
            let owner = account_of(self.users.as_ref(), caller).await?;
            let notice = SecurityNotice::FactorRemoved {
                strategy: factor.strategy.as_str(),
            };
            self.notices.tell(&owner.email, notice).await;
        }
        Ok(())
    }

    /// The user the caller may manage factors of: themself, or anyone for an admin.
    async fn managed_user(&self, caller: &Claims, user_id: Option<Uuid>) -> Result<User, AuthError> {
        let me = account_of(self.users.as_ref(), caller).await?;
        match user_id {
            None => Ok(me),
            Some(id) if id == me.id => Ok(me),
            Some(_) if !me.is_admin => Err(AuthError::Forbidden(
                "only administrators manage another user's factors",
            )),
            Some(id) => self.users.user_by_id(id).await?.ok_or(AuthError::NotFound("user")),
        }
    }
}
