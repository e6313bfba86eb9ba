//! Sign in with Apple's two peculiarities: the client secret is a short-lived ES256 JWT
//! made from the team's key (not a fixed string), and the person's name comes once, in the
//! `user` field of the first POSTed callback, never in the ID token.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use crate::upstream_config::AppleKey;

/// Apple's audience for client secrets.
const APPLE_AUDIENCE: &str = "https://appleid.apple.com";
/// How long one client secret is good for (Apple allows up to six months; a short life
/// means a leaked one is soon useless).
const SECRET_TTL_SECS: i64 = 300;

/// Makes client secrets from the team's private key.
pub struct AppleSecret {
    team_id: String,
    key_id: String,
    client_id: String,
    key: EncodingKey,
}

#[derive(Serialize)]
struct SecretClaims<'a> {
    iss: &'a str,
    iat: i64,
    exp: i64,
    aud: &'static str,
    sub: &'a str,
}

impl AppleSecret {
    /// Reads the private key (PKCS#8 PEM, P-256) of `key`.
    pub fn read(key: &AppleKey, client_id: &str) -> anyhow::Result<Self> {
        let pem = std::fs::read(&key.private_key_file)
            .map_err(|e| anyhow::anyhow!("private_key_file {}: {e}", key.private_key_file.display()))?;
        let encoding = EncodingKey::from_ec_pem(&pem)
            .map_err(|e| anyhow::anyhow!("private_key_file is not a P-256 private key in PEM: {e}"))?;
        Ok(Self {
            team_id: key.team_id.clone(),
            key_id: key.key_id.clone(),
            client_id: client_id.to_owned(),
            key: encoding,
        })
    }

    /// A client secret good from `now` for a few minutes.
    pub fn client_secret(&self, now: i64) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.key_id.clone());
        let claims = SecretClaims {
            iss: &self.team_id,
            iat: now,
            exp: now + SECRET_TTL_SECS,
            aud: APPLE_AUDIENCE,
            sub: &self.client_id,
        };
        Ok(jsonwebtoken::encode(&header, &claims, &self.key)?)
    }
}

#[derive(Deserialize)]
struct AppleUser {
    name: Option<AppleName>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AppleName {
    first_name: Option<String>,
    last_name: Option<String>,
}

/// The name in Apple's `user` field (`{"name": {"firstName", "lastName"}, ...}`).
pub fn name_of(user: &str) -> Option<String> {
    let name = serde_json::from_str::<AppleUser>(user).ok()?.name?;
    let parts: Vec<String> = [name.first_name, name.last_name].into_iter().flatten().collect();
    let joined = parts.join(" ").trim().to_owned();
    (!joined.is_empty()).then_some(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_comes_from_the_user_field() {
        let user = r#"{"name":{"firstName":"Ada","lastName":"Lovelace"},"email":"ada@example.com"}"#;
        assert_eq!(name_of(user).as_deref(), Some("Ada Lovelace"));
        assert_eq!(name_of(r#"{"email":"x@example.com"}"#), None);
        assert_eq!(name_of("not json"), None);
    }
}
