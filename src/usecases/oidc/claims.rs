//! What an account's scopes release about it (OpenID Connect Core §5.4), for userinfo and
//! for the ID token alike, and the ID token itself (§2, §3.1.3.6, §12.2).

use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::Issuer;
use crate::domain::oauth::Client;
use crate::domain::oidc::{amr, at_hash};
use crate::domain::profile::Profile;
use crate::ports::IdTokenSigning;

/// The claims `scopes` release about `profile`'s account: `sub` always; `name` with
/// `profile`; `email` and `email_verified` with `email`; the phone with `phone`; the
/// memberships with `organizations`.
pub fn released(profile: &Profile, scopes: &[&str]) -> Map<String, Value> {
    let user = &profile.user;
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user.id));
    if scopes.contains(&"profile") {
        claims.insert("name".into(), json!(user.name));
    }
    if scopes.contains(&"email") {
        claims.insert("email".into(), json!(user.email.as_str()));
        claims.insert("email_verified".into(), json!(user.email_verified));
    }
    if scopes.contains(&"phone") {
        if let Some(phone) = &user.phone {
            claims.insert("phone_number".into(), json!(phone));
            claims.insert("phone_number_verified".into(), json!(false));
        }
    }
    if scopes.contains(&"organizations") {
        let organizations: Vec<Value> = profile
            .organizations
            .iter()
            .map(|(org, role)| json!({ "id": org.id, "name": org.name, "role": role.as_str() }))
            .collect();
        claims.insert("organizations".into(), json!(organizations));
    }
    claims
}

/// One ID token's facts beyond the account: the sign-in it reports and the access token
/// it travels with.
pub struct IdTokenFacts<'a> {
    pub session: Uuid,
    pub expires_at: i64,
    pub issued_at: i64,
    /// When and how the person signed in (the original sign-in, also after a refresh).
    pub auth_time: i64,
    pub method: &'a str,
    pub access_token: &'a str,
    /// The authorization request's nonce; `None` after a refresh (OIDC Core §12.2).
    pub nonce: Option<&'a str>,
}

/// Signs the ID token for `client` about `profile`'s account, with the claims the granted
/// `scopes` release (so a relying party that reads only the ID token has them too).
pub fn id_token(
    signer: &dyn IdTokenSigning,
    issuer: &Issuer,
    client: &Client,
    profile: &Profile,
    scopes: &[&str],
    facts: &IdTokenFacts<'_>,
) -> String {
    let amr = amr(facts.method);
    let mut claims = released(profile, scopes);
    let fixed = json!({
        "iss": issuer.as_str(),
        "aud": client.id,
        "azp": client.id,
        "exp": facts.expires_at,
        "iat": facts.issued_at,
        "auth_time": facts.auth_time,
        "acr": if amr.contains(&"mfa") { "mfa" } else { "pwd" },
        "amr": amr,
        "at_hash": at_hash(facts.access_token, client.id_token_alg),
        "sid": facts.session,
    });
    if let Value::Object(fixed) = fixed {
        claims.extend(fixed);
    }
    if let Some(nonce) = facts.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    signer.sign_id_token(&Value::Object(claims), client.id_token_alg)
}
