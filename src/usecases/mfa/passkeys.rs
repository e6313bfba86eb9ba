//! Passkeys as second factors and for passwordless sign-in: the WebAuthn ceremonies of
//! [`PasskeyCeremonies`] around the account's passkeys.
//!
//! Every ceremony's state lives in the cache for [`CEREMONY_TTL`] under a key no client can
//! guess (the registration's `mfaId`, the digest of a login hash), and is taken, not read,
//! when the response comes back: a challenge is answered once, on whichever instance.

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::events::{EventKind, Origin, SecurityEvent};
use crate::domain::mfa::{passkey_name, PasskeyRegistration, StoredPasskey};
use crate::domain::user::User;
use crate::domain::AuthError;
use crate::ports::{
    Cache, Clock, DataKey, OneTimeSecrets, PasskeyCeremonies, PasskeyRefusal, PasskeyStore, SecurityEvents,
};
use crate::usecases::Ports;

/// How long a WebAuthn challenge may be answered.
pub const CEREMONY_TTL: Duration = Duration::from_secs(300);

/// Digest purpose of passwordless sign-in hashes.
const SIGN_IN: &str = "passkey-sign-in";

/// A registration waiting for its response.
#[derive(Serialize, Deserialize)]
struct PendingRegistration {
    user_id: Uuid,
    name: String,
    state: String,
}

/// A passwordless sign-in waiting for its assertion.
#[derive(Serialize, Deserialize)]
struct PendingSignIn {
    state: String,
}

/// Registers passkeys and checks their assertions.
pub struct Passkeys {
    store: Arc<dyn PasskeyStore>,
    ceremonies: Arc<dyn PasskeyCeremonies>,
    cache: Arc<dyn Cache>,
    data_key: Arc<dyn DataKey>,
    secrets: Arc<dyn OneTimeSecrets>,
    events: Arc<dyn SecurityEvents>,
    clock: Arc<dyn Clock>,
}

impl Passkeys {
    pub fn new(ports: &Ports) -> Self {
        Self {
            store: ports.passkeys.clone(),
            ceremonies: ports.ceremonies.clone(),
            cache: ports.cache.clone(),
            data_key: ports.data_key.clone(),
            secrets: ports.secrets.clone(),
            events: ports.events.clone(),
            clock: ports.clock.clone(),
        }
    }

    /// Starts registering a passkey named `name` for `user`: the id it will have and the
    /// creation options. The account's passkeys are excluded, so one cannot be added twice.
    pub(crate) async fn start_registration(
        &self,
        user: &User,
        name: Option<&str>,
    ) -> Result<(Uuid, serde_json::Value), AuthError> {
        let name = passkey_name(name)?;
        let held: Vec<String> = self
            .store
            .passkeys_of(user.id)
            .await?
            .into_iter()
            .map(|p| p.passkey)
            .collect();
        let (options, state) = self
            .ceremonies
            .start_registration(user.id, user.email.as_str(), &user.name, &held)?;
        let id = self.clock.new_id();
        let now = self.clock.unix_now();
        let listed = PasskeyRegistration {
            id,
            user_id: user.id,
            name: name.clone(),
            created_at: now,
            expires_at: now + CEREMONY_TTL.as_secs() as i64,
        };
        self.store.insert_registration(&listed).await?;
        let pending = PendingRegistration {
            user_id: user.id,
            name,
            state,
        };
        let value = serde_json::to_string(&pending).expect("a registration serializes");
        self.cache.put(&registration_key(id), &value, CEREMONY_TTL).await?;
        Ok((id, options))
    }

    /// The owner of the registration `id`, while it waits; `None` when unknown or used.
    pub(crate) async fn registration_owner(&self, id: Uuid) -> Result<Option<Uuid>, AuthError> {
        let pending = self.cache.get(&registration_key(id)).await?;
        Ok(pending
            .and_then(|text| serde_json::from_str::<PendingRegistration>(&text).ok())
            .map(|pending| pending.user_id))
    }

    /// Finishes the registration `id` with the authenticator's response; the passkey and its
    /// `mfa.factor_added` event are stored together. A credential the account holds already
    /// is `factor_exists` (one another account holds fails the store's uniqueness rule); a
    /// registration removed meanwhile (`DELETE /mfa/{id}`) is `invalid_passkey`.
    pub(crate) async fn finish_registration(
        &self,
        id: Uuid,
        response: &serde_json::Value,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        let pending = self
            .cache
            .take(&registration_key(id))
            .await?
            .and_then(|text| serde_json::from_str::<PendingRegistration>(&text).ok())
            .ok_or(AuthError::InvalidPasskey)?;
        let finished = self.store_answer(id, pending, response, origin).await;
        if finished.is_err() {
            // The challenge is used up: the registration is over either way.
            self.store.end_registration(id).await?;
        }
        finished
    }

    async fn store_answer(
        &self,
        id: Uuid,
        pending: PendingRegistration,
        response: &serde_json::Value,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        let claimed = response
            .get("rawId")
            .and_then(|raw| raw.as_str())
            .map(|raw| raw.trim_end_matches('='));
        let held = self.store.passkeys_of(pending.user_id).await?;
        if held.iter().any(|p| Some(p.credential_id.as_str()) == claimed) {
            return Err(AuthError::FactorExists);
        }
        let registered = self.ceremonies.finish_registration(response, &pending.state)?;
        let now = self.clock.unix_now();
        let passkey = StoredPasskey {
            id,
            user_id: pending.user_id,
            name: pending.name,
            credential_id: registered.credential_id,
            passkey: registered.passkey,
            enabled: true,
            created_at: now,
        };
        let event = SecurityEvent::new(
            EventKind::MfaFactorAdded,
            Some(pending.user_id),
            self.clock.stamp_at(now),
        )
        .from(origin)
        .with("strategy", "PASSKEY")
        .with("factorId", id.to_string());
        match self.store.insert_passkey(&passkey, &event).await? {
            true => Ok(()),
            false => Err(AuthError::InvalidPasskey),
        }
    }

    /// Request options for the account's enabled passkeys, and the state to check with.
    pub(crate) async fn request_options(&self, user_id: Uuid) -> Result<(serde_json::Value, String), AuthError> {
        let enabled: Vec<String> = self
            .store
            .passkeys_of(user_id)
            .await?
            .into_iter()
            .filter(|p| p.enabled)
            .map(|p| p.passkey)
            .collect();
        if enabled.is_empty() {
            return Err(AuthError::StrategyNotListed);
        }
        self.ceremonies.start_authentication(&enabled)
    }

    /// Whether `response` is a valid assertion of one of `user_id`'s enabled passkeys for
    /// `state`. A sign counter that went backwards disables that passkey and is an event.
    pub(crate) async fn accepts(
        &self,
        user_id: Uuid,
        response: &serde_json::Value,
        state: &str,
        discoverable: bool,
        origin: Option<&Origin>,
    ) -> Result<bool, AuthError> {
        let Some((_, credential_id)) = self.ceremonies.claimed_by(response) else {
            return Ok(false);
        };
        let passkey = self
            .store
            .passkeys_of(user_id)
            .await?
            .into_iter()
            .find(|p| p.enabled && p.credential_id == credential_id);
        let Some(passkey) = passkey else {
            return Ok(false);
        };
        match self
            .ceremonies
            .finish_authentication(response, state, &passkey.passkey, discoverable)
        {
            Ok(updated) => {
                self.store
                    .passkey_used(passkey.id, &updated, self.clock.unix_now())
                    .await?;
                Ok(true)
            }
            Err(PasskeyRefusal::Invalid) => Ok(false),
            Err(PasskeyRefusal::CounterRegressed) => {
                tracing::warn!(passkey = %passkey.id, "passkey sign counter went backwards; disabling it");
                let mut event = SecurityEvent::new(EventKind::MfaFailed, Some(user_id), self.clock.stamp())
                    .with("strategy", "PASSKEY")
                    .with("factorId", passkey.id.to_string())
                    .with("reason", "counter_regressed")
                    .with("disabled", true);
                if let Some(origin) = origin {
                    event = event.from(origin);
                }
                self.store.disable_passkey(passkey.id, &event).await?;
                Ok(false)
            }
        }
    }

    /// Starts a passwordless sign-in: a hash and request options listing no credential.
    pub async fn start_sign_in(&self) -> Result<(String, serde_json::Value), AuthError> {
        let (options, state) = self.ceremonies.start_discoverable()?;
        let hash = self.secrets.random_token(32);
        let key = sign_in_key(&self.data_key.digest(SIGN_IN, hash.expose_secret()));
        let value = serde_json::to_string(&PendingSignIn { state }).expect("a sign-in serializes");
        self.cache.put(&key, &value, CEREMONY_TTL).await?;
        Ok((hash.expose_secret().to_owned(), options))
    }

    /// The account an assertion claims (its user handle), before it is checked.
    pub fn claimed_account(&self, response: &serde_json::Value) -> Option<Uuid> {
        self.ceremonies.claimed_by(response).and_then(|(user, _)| user)
    }

    /// Finishes a passwordless sign-in: the account whose passkey signed, user verified.
    /// The challenge is used up whatever the outcome.
    pub async fn finish_sign_in(
        &self,
        hash: &str,
        response: &serde_json::Value,
        origin: &Origin,
    ) -> Result<Uuid, AuthError> {
        let key = sign_in_key(&self.data_key.digest(SIGN_IN, hash));
        let pending = self
            .cache
            .take(&key)
            .await?
            .and_then(|text| serde_json::from_str::<PendingSignIn>(&text).ok())
            .ok_or(AuthError::InvalidHash)?;
        let user_id = self.claimed_account(response).ok_or(AuthError::InvalidCredentials)?;
        if self
            .accepts(user_id, response, &pending.state, true, Some(origin))
            .await?
        {
            Ok(user_id)
        } else {
            let event = SecurityEvent::new(EventKind::LoginFailed, Some(user_id), self.clock.stamp())
                .from(origin)
                .with("method", "passkey")
                .with("reason", "invalid_credentials");
            self.events.record(event).await;
            Err(AuthError::InvalidCredentials)
        }
    }
}

fn registration_key(id: Uuid) -> String {
    format!("passkey:registration:{id}")
}

fn sign_in_key(digest: &str) -> String {
    format!("passkey:sign-in:{digest}")
}
