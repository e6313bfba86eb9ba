//! What an account's scopes release about it (OpenID Connect Core §5.4), for userinfo and
//! for the ID token alike, and the ID token itself (§2, §3.1.3.6, §12.2). Both are types,
//! so a claim's name and presence are decided here once.

use serde::Serialize;
use uuid::Uuid;

use super::Issuer;
use crate::domain::oauth::Client;
use crate::domain::oidc::at_hash;
use crate::domain::profile::Profile;
use crate::domain::sign_in_method::SignInMethod;
use crate::ports::IdTokenSigning;

/// The claims the granted scopes release about an account: `sub` always; `name` with
/// `profile`; `email` and `email_verified` with `email`; the phone with `phone`; the
/// memberships with `organizations`. A claim not released is absent, never `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Released {
    pub sub: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Always `false`: authd never proves a phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organizations: Option<Vec<OrganizationClaim>>,
}

/// One membership in the `organizations` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrganizationClaim {
    pub id: Uuid,
    pub name: String,
    /// `owner`, `admin` or `member`.
    pub role: &'static str,
}

/// The claims `scopes` release about `profile`'s account.
pub fn released(profile: &Profile, scopes: &[&str]) -> Released {
    let user = &profile.user;
    let email = scopes.contains(&"email");
    let phone = user.phone.clone().filter(|_| scopes.contains(&"phone"));
    Released {
        sub: user.id,
        name: scopes.contains(&"profile").then(|| user.name.clone()),
        email: email.then(|| user.email.as_str().to_owned()),
        email_verified: email.then_some(user.email_verified),
        phone_number_verified: phone.as_ref().map(|_| false),
        phone_number: phone,
        organizations: scopes.contains(&"organizations").then(|| {
            profile
                .organizations
                .iter()
                .map(|(organization, role)| OrganizationClaim {
                    id: organization.id,
                    name: organization.name.clone(),
                    role: role.as_str(),
                })
                .collect()
        }),
    }
}

/// One ID token's facts beyond the account: the sign-in it reports and the access token
/// it travels with.
pub struct IdTokenFacts<'a> {
    pub session: Uuid,
    pub expires_at: i64,
    pub issued_at: i64,
    /// When and how the person signed in (the original sign-in, also after a refresh).
    pub auth_time: i64,
    pub method: SignInMethod,
    pub access_token: &'a str,
    /// The authorization request's nonce; `None` after a refresh (OIDC Core §12.2).
    pub nonce: Option<&'a str>,
}

/// An ID token's claims (OIDC Core §2): who issued it to whom, when and how the person
/// signed in, what it travels with, and what the scopes release.
#[derive(Debug, Serialize)]
pub struct IdTokenClaims<'a> {
    pub iss: &'a str,
    pub aud: &'a str,
    pub azp: &'a str,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    /// `mfa` when more than one factor was proven, else `pwd`.
    pub acr: &'static str,
    pub amr: Vec<&'static str>,
    pub at_hash: String,
    pub sid: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<&'a str>,
    #[serde(flatten)]
    pub released: Released,
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
    let amr = facts.method.amr();
    let claims = IdTokenClaims {
        iss: issuer.as_str(),
        aud: &client.id,
        azp: &client.id,
        exp: facts.expires_at,
        iat: facts.issued_at,
        auth_time: facts.auth_time,
        acr: if amr.contains(&"mfa") { "mfa" } else { "pwd" },
        amr,
        at_hash: at_hash(facts.access_token, client.id_token_alg),
        sid: facts.session,
        nonce: facts.nonce,
        released: released(profile, scopes),
    };
    let claims = serde_json::to_value(&claims).expect("ID token claims serialize");
    signer.sign_id_token(&claims, client.id_token_alg)
}
