//! The adapters towards the outside world that configuration picks: e-mail and SMS
//! senders, the webhook sender, the breached-password check and the WebAuthn relying party.

use std::sync::Arc;

use crate::config::{BreachCheck, Config};
use crate::crypto::breached::{NoBreachCheck, OfflineList, PwnedPasswords};
use crate::crypto::passkeys::{RelyingParty, WebauthnCeremonies};
use crate::notifications::outbox_dir::OutboxDirSender;
use crate::notifications::smtp::SmtpSender;
use crate::notifications::twilio::{TwilioConfig, TwilioSender};
use crate::notifications::webhook::WebhookSender;
use crate::ports::{BreachedPasswords, Clock, MessageSender, PasskeyCeremonies};

/// The e-mail and the SMS/WhatsApp senders: SMTP and Twilio when configured, else the
/// outbox folder.
pub(super) fn message_senders(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(Arc<dyn MessageSender>, Arc<dyn MessageSender>)> {
    let outbox = || Arc::new(OutboxDirSender::new(config.outbox_dir.clone(), clock.clone())) as Arc<dyn MessageSender>;
    let email = match &config.smtp_url {
        Some(url) => Arc::new(SmtpSender::new(url, &config.mail_from)?) as Arc<dyn MessageSender>,
        None => outbox(),
    };
    let phone = match (
        &config.twilio_account_sid,
        &config.twilio_auth_token,
        &config.twilio_from,
    ) {
        (Some(sid), Some(token), Some(from)) => Arc::new(TwilioSender::new(TwilioConfig {
            base_url: config.twilio_base_url.clone(),
            account_sid: sid.clone(),
            auth_token: token.clone(),
            from: from.clone(),
            whatsapp_from: config.twilio_whatsapp_from.clone(),
        })?) as Arc<dyn MessageSender>,
        _ => outbox(),
    };
    Ok((email, phone))
}

/// The breached-password check `AUTH_BREACHED_PASSWORDS` asks for.
pub(super) fn breach_check(config: &Config) -> anyhow::Result<Arc<dyn BreachedPasswords>> {
    Ok(match config.breached_passwords {
        BreachCheck::Offline => Arc::new(OfflineList),
        BreachCheck::Hibp => Arc::new(PwnedPasswords::new(&config.hibp_url)?),
        BreachCheck::Off => Arc::new(NoBreachCheck),
    })
}

/// The webhook sender, when `AUTH_WEBHOOK_URL` is set (it needs `AUTH_WEBHOOK_SECRET`).
pub(super) fn webhook_sender(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Option<Arc<dyn MessageSender>>> {
    match (&config.webhook_url, &config.webhook_secret) {
        (None, _) => Ok(None),
        (Some(_), None) => anyhow::bail!("AUTH_WEBHOOK_URL is set: set AUTH_WEBHOOK_SECRET too, to sign deliveries"),
        (Some(url), Some(secret)) => Ok(Some(Arc::new(WebhookSender::new(url.clone(), secret.clone(), clock)?))),
    }
}

/// The WebAuthn relying party of `AUTH_WEBAUTHN_RP_ID` and `AUTH_WEBAUTHN_ORIGINS`.
pub(super) fn passkey_ceremonies(config: &Config) -> anyhow::Result<Arc<dyn PasskeyCeremonies>> {
    let rp = RelyingParty::from_settings(
        &config.public_url,
        config.webauthn_rp_id.as_deref(),
        &config.webauthn_origins,
        &config.jwt_issuer,
    )?;
    Ok(Arc::new(WebauthnCeremonies::new(&rp)?))
}

/// Checks what can be checked of `config` without connecting anywhere: the database URL's
/// scheme, the message senders, the webhook, the breach check and the WebAuthn relying party.
pub fn check(config: &Config) -> anyhow::Result<()> {
    crate::storage::sql::SqlBackend::from_url(&config.database_url)?;
    let clock: Arc<dyn Clock> = Arc::new(crate::ports::SystemClock);
    message_senders(config, clock.clone())?;
    webhook_sender(config, clock)?;
    breach_check(config)?;
    passkey_ceremonies(config)?;
    super::services::page_settings(config)?;
    Ok(())
}
