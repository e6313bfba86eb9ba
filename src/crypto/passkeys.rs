//! WebAuthn ceremonies with webauthn-rs (the Kanidm project's implementation): the adapter
//! of [`PasskeyCeremonies`]. It checks origin (`AUTH_WEBAUTHN_ORIGINS`), RP ID
//! (`AUTH_WEBAUTHN_RP_ID`), challenge, user presence, user verification, signature and
//! the sign counter; attestation is not asked for (format `none`).
//!
//! Options are answered in the WebAuthn Level 3 JSON forms (the `publicKey` member of
//! webauthn-rs's challenge responses, base64url throughout), and responses are read in the
//! same forms, as `PublicKeyCredential.toJSON()` makes them. Passkeys are created as
//! discoverable credentials (resident key required) so they also sign in without a password.

use url::Url;
use uuid::Uuid;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Webauthn, WebauthnBuilder, WebauthnError,
};

use crate::domain::AuthError;
use crate::ports::{NewPasskey, PasskeyCeremonies, PasskeyRefusal};

/// Where passkeys are valid.
#[derive(Debug, Clone)]
pub struct RelyingParty {
    pub id: String,
    pub origins: Vec<Url>,
    /// Shown by authenticators beside the account.
    pub name: String,
}

impl RelyingParty {
    /// The RP ID and origins configured, or else those of the public URL. A public URL on
    /// an IP address (the embedded default) cannot be an RP ID: browsers refuse WebAuthn
    /// there, so `localhost` on the same port stands in.
    pub fn from_settings(
        public_url: &str,
        rp_id: Option<&str>,
        origins: &[String],
        name: &str,
    ) -> anyhow::Result<Self> {
        let public = Url::parse(public_url)?;
        let fallback = match public.domain() {
            Some(_) => public.clone(),
            None => {
                let mut local = public.clone();
                local
                    .set_host(Some("localhost"))
                    .map_err(|e| anyhow::anyhow!("AUTH_PUBLIC_URL: {e}"))?;
                local
            }
        };
        let origins = if origins.is_empty() {
            vec![fallback.clone()]
        } else {
            origins.iter().map(|o| Url::parse(o)).collect::<Result<_, _>>()?
        };
        let id = match rp_id {
            Some(id) => id.to_owned(),
            None => fallback
                .domain()
                .ok_or_else(|| anyhow::anyhow!("set AUTH_WEBAUTHN_RP_ID"))?
                .to_owned(),
        };
        Ok(Self {
            id,
            origins,
            name: name.to_owned(),
        })
    }
}

/// The webauthn-rs relying party.
pub struct WebauthnCeremonies {
    webauthn: Webauthn,
}

impl WebauthnCeremonies {
    pub fn new(rp: &RelyingParty) -> anyhow::Result<Self> {
        let (first, others) = rp
            .origins
            .split_first()
            .ok_or_else(|| anyhow::anyhow!("AUTH_WEBAUTHN_ORIGINS is empty"))?;
        let mut builder = WebauthnBuilder::new(&rp.id, first)
            .map_err(|e| anyhow::anyhow!("AUTH_WEBAUTHN_RP_ID {} does not fit origin {first}: {e}", rp.id))?
            .rp_name(&rp.name);
        for origin in others {
            builder = builder.append_allowed_origin(origin);
        }
        Ok(Self {
            webauthn: builder.build()?,
        })
    }
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, AuthError> {
    serde_json::from_str(text).map_err(|_| AuthError::InvalidPasskey)
}

fn read<T: serde::de::DeserializeOwned>(value: &serde_json::Value) -> Result<T, AuthError> {
    serde_json::from_value(value.clone()).map_err(|_| AuthError::invalid("credential", "is not a WebAuthn response"))
}

fn write(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("webauthn-rs types serialize")
}

fn options(value: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(value).expect("webauthn-rs types serialize")
}

/// A credential id as stored and compared: base64url without padding.
fn credential_text(id: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

fn refused(err: WebauthnError) -> AuthError {
    tracing::info!(%err, "passkey response refused");
    AuthError::InvalidPasskey
}

impl PasskeyCeremonies for WebauthnCeremonies {
    fn start_registration(
        &self,
        user_id: Uuid,
        user_name: &str,
        display_name: &str,
        held: &[String],
    ) -> Result<(serde_json::Value, String), AuthError> {
        let exclude = held
            .iter()
            .filter_map(|p| serde_json::from_str::<Passkey>(p).ok())
            .map(|p| p.cred_id().clone())
            .collect::<Vec<_>>();
        let (challenge, state) = self
            .webauthn
            .start_passkey_registration(user_id, user_name, display_name, Some(exclude))
            .map_err(|err| {
                tracing::error!(%err, "passkey registration could not start");
                AuthError::Unavailable("passkeys")
            })?;
        let mut options = options(&challenge.public_key);
        options["authenticatorSelection"]["residentKey"] = "required".into();
        options["authenticatorSelection"]["requireResidentKey"] = true.into();
        Ok((options, write(&state)))
    }

    fn finish_registration(&self, response: &serde_json::Value, state: &str) -> Result<NewPasskey, AuthError> {
        let response: RegisterPublicKeyCredential = read(response)?;
        let state: PasskeyRegistration = parse(state)?;
        let passkey = self
            .webauthn
            .finish_passkey_registration(&response, &state)
            .map_err(refused)?;
        Ok(NewPasskey {
            credential_id: credential_text(passkey.cred_id()),
            passkey: write(&passkey),
        })
    }

    fn start_authentication(&self, passkeys: &[String]) -> Result<(serde_json::Value, String), AuthError> {
        let passkeys = passkeys
            .iter()
            .map(|p| parse::<Passkey>(p))
            .collect::<Result<Vec<_>, _>>()?;
        let (challenge, state) = self.webauthn.start_passkey_authentication(&passkeys).map_err(|err| {
            tracing::error!(%err, "passkey authentication could not start");
            AuthError::Unavailable("passkeys")
        })?;
        Ok((options(&challenge.public_key), write(&state)))
    }

    fn start_discoverable(&self) -> Result<(serde_json::Value, String), AuthError> {
        let (challenge, state) = self.webauthn.start_discoverable_authentication().map_err(|err| {
            tracing::error!(%err, "passkey sign-in could not start");
            AuthError::Unavailable("passkeys")
        })?;
        Ok((options(&challenge.public_key), write(&state)))
    }

    fn claimed_by(&self, response: &serde_json::Value) -> Option<(Option<Uuid>, String)> {
        let response: PublicKeyCredential = serde_json::from_value(response.clone()).ok()?;
        let user = self
            .webauthn
            .identify_discoverable_authentication(&response)
            .ok()
            .map(|(user, _)| user);
        Some((user, credential_text(response.get_credential_id())))
    }

    fn finish_authentication(
        &self,
        response: &serde_json::Value,
        state: &str,
        passkey: &str,
        discoverable: bool,
    ) -> Result<String, PasskeyRefusal> {
        let invalid = |_| PasskeyRefusal::Invalid;
        let response: PublicKeyCredential = serde_json::from_value(response.clone()).map_err(invalid)?;
        let mut passkey: Passkey = serde_json::from_str(passkey).map_err(invalid)?;
        let outcome = if discoverable {
            let state: DiscoverableAuthentication = serde_json::from_str(state).map_err(invalid)?;
            self.webauthn
                .finish_discoverable_authentication(&response, state, &[DiscoverableKey::from(&passkey)])
        } else {
            let state: PasskeyAuthentication = serde_json::from_str(state).map_err(invalid)?;
            self.webauthn.finish_passkey_authentication(&response, &state)
        };
        match outcome {
            Ok(result) if result.cred_id()[..] == passkey.cred_id()[..] => {
                passkey.update_credential(&result);
                Ok(write(&passkey))
            }
            Ok(_) => Err(PasskeyRefusal::Invalid),
            Err(WebauthnError::CredentialPossibleCompromise) => Err(PasskeyRefusal::CounterRegressed),
            Err(err) => {
                tracing::info!(%err, "passkey assertion refused");
                Err(PasskeyRefusal::Invalid)
            }
        }
    }
}
