//! Recovery codes: ten single-use codes that stand in for any factor at login, shown once
//! and stored only as keyed digests.

use std::sync::Arc;

use secrecy::{ExposeSecret as _, SecretString};
use uuid::Uuid;

use crate::domain::events::{EventKind, Origin, SecurityEvent};
use crate::domain::mfa::RECOVERY_CODES_PER_SET;
use crate::domain::notification::SecurityNotice;
use crate::domain::token::Claims;
use crate::domain::AuthError;
use crate::ports::{Clock, DataKey, MfaStore, OneTimeSecrets, UserStore};
use crate::usecases::notices::Notices;
use crate::usecases::{account_of, Ports};

/// Digest purpose of recovery codes.
const RECOVERY: &str = "recovery-code";

/// Makes recovery code sets and uses up single codes.
pub struct RecoveryCodes {
    users: Arc<dyn UserStore>,
    factors: Arc<dyn MfaStore>,
    data_key: Arc<dyn DataKey>,
    secrets: Arc<dyn OneTimeSecrets>,
    clock: Arc<dyn Clock>,
    notices: Arc<Notices>,
}

impl RecoveryCodes {
    pub fn new(ports: &Ports, notices: Arc<Notices>) -> Self {
        Self {
            users: ports.users.clone(),
            factors: ports.factors.clone(),
            data_key: ports.data_key.clone(),
            secrets: ports.secrets.clone(),
            clock: ports.clock.clone(),
            notices,
        }
    }

    /// Makes a new set of recovery codes (replacing the old), shown this once.
    pub async fn new_set(&self, caller: &Claims, origin: &Origin) -> Result<Vec<SecretString>, AuthError> {
        if !self.factors.factors_of(caller.sub).await?.iter().any(|f| f.enabled) {
            return Err(AuthError::NoValidatedFactor);
        }
        let codes: Vec<SecretString> = (0..RECOVERY_CODES_PER_SET)
            .map(|_| self.secrets.recovery_code())
            .collect();
        let digests: Vec<(Uuid, String)> = codes
            .iter()
            .map(|c| (self.clock.new_id(), self.data_key.digest(RECOVERY, c.expose_secret())))
            .collect();
        let now = self.clock.unix_now();
        let event = SecurityEvent::new(
            EventKind::RecoveryCodesCreated,
            Some(caller.sub),
            self.clock.stamp_at(now),
        )
        .from(origin);
        self.factors
            .replace_recovery_codes(caller.sub, &digests, now, &event)
            .await?;
        let owner = account_of(self.users.as_ref(), caller).await?;
        self.notices
            .tell(&owner.email, SecurityNotice::RecoveryCodesCreated)
            .await;
        Ok(codes)
    }

    /// Uses up the user's unused code `code` (as typed: case and spaces do not matter);
    /// false when there is no such code.
    pub async fn use_code(&self, user_id: Uuid, code: &SecretString) -> Result<bool, AuthError> {
        let typed = code.expose_secret().trim().to_lowercase();
        let digest = self.data_key.digest(RECOVERY, &typed);
        Ok(self
            .factors
            .use_recovery_code(user_id, &digest, self.clock.unix_now())
            .await?)
    }
}
