//! Signing in with an account at another identity provider ("Continue with ..."): the
//! providers' names, the identities linked to accounts, and the one rule that decides
//! whose account an upstream sign-in opens (API.md part 3, "Whose account it is").
//!
//! Linking by e-mail is where account takeover hides: anyone can make an account at some
//! provider with a victim's address, and a provider that does not prove addresses would
//! hand that stranger the victim's account. So an address links an identity silently only
//! when the operator trusts the provider's proof (`linking = "verified_email"`), the
//! provider says the address is verified, and authd proved the local one too; in every
//! other case the person first proves the existing account with its own credentials.

use uuid::Uuid;

use super::user::User;
use super::AuthError;

/// A provider's id: the name of its configuration table, `[a-z0-9-]{1,32}`; it is part of
/// the callback URL registered at the provider.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderId(String);

impl ProviderId {
    pub fn parse(raw: &str) -> Result<Self, AuthError> {
        let valid = (1..=32).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        match valid {
            true => Ok(Self(raw.to_owned())),
            false => Err(AuthError::invalid("id", "1 to 32 of a-z, 0-9 and -")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What kind of provider it is: how its endpoints are found and what its answers mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// Any OpenID Connect provider with Discovery.
    Oidc,
    Google,
    /// Microsoft Entra ID, multi-tenant: the issuer names the token's tenant (`tid`).
    Microsoft,
    /// Sign in with Apple: an ES256 client secret, `form_post`, the name only once.
    Apple,
    Gitlab,
    /// OAuth 2.0 without OpenID Connect: the profile and verified addresses from its API.
    Github,
}

impl ProviderKind {
    pub fn parse(raw: &str) -> Result<Self, AuthError> {
        Ok(match raw {
            "oidc" => ProviderKind::Oidc,
            "google" => ProviderKind::Google,
            "microsoft" => ProviderKind::Microsoft,
            "apple" => ProviderKind::Apple,
            "gitlab" => ProviderKind::Gitlab,
            "github" => ProviderKind::Github,
            _ => {
                return Err(AuthError::invalid(
                    "kind",
                    "oidc, google, microsoft, apple, gitlab or github",
                ))
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Oidc => "oidc",
            ProviderKind::Google => "google",
            ProviderKind::Microsoft => "microsoft",
            ProviderKind::Apple => "apple",
            ProviderKind::Gitlab => "gitlab",
            ProviderKind::Github => "github",
        }
    }

    /// Whether it speaks OpenID Connect (an ID token, a nonce); GitHub does not.
    pub fn is_openid_connect(self) -> bool {
        self != ProviderKind::Github
    }
}

/// When an identity may be linked to an account with the same address without asking.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Linking {
    /// Never: the person proves the account first (the default).
    #[default]
    Confirm,
    /// When both the provider and authd verified the address.
    VerifiedEmail,
}

impl Linking {
    pub fn parse(raw: &str) -> Result<Self, AuthError> {
        match raw {
            "confirm" => Ok(Linking::Confirm),
            "verified_email" => Ok(Linking::VerifiedEmail),
            _ => Err(AuthError::invalid("linking", "confirm or verified_email")),
        }
    }
}

/// What a provider said about the person, once its answer was validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamProfile {
    /// The provider's stable id of the person (`sub`; GitHub's numeric id as a string).
    pub subject: String,
    pub email: Option<String>,
    /// Whether the provider says it proved `email`.
    pub email_verified: bool,
    pub name: Option<String>,
}

/// An identity at a provider, linked to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: Uuid,
    pub user_id: Uuid,
    pub provider: ProviderId,
    pub subject: String,
    /// The address the provider gave when the identity was linked.
    pub email: Option<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// Why an upstream sign-in was refused. Each is a page with a message and a `login.failed`
/// event naming [`UpstreamRefusal::reason`]; none links or makes anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamRefusal {
    /// The provider answered `error` (the person cancelled, or it refused them).
    Denied,
    /// The provider could not be reached, or answered with something unusable.
    Unreachable,
    /// The `state` is unknown, used, expired or another browser's.
    BadState,
    /// The answer failed validation: the RFC 9207 `iss`, the code exchange, or the ID
    /// token's signature, issuer, audience, times or nonce.
    BadAnswer,
    /// The provider shared no (verified, for GitHub) e-mail address, which a new account needs.
    NoEmail,
    /// No account, and this provider may not make one.
    NoAccount,
    /// The identity is linked to another account than the one it was to be linked to.
    LinkedElsewhere,
}

impl UpstreamRefusal {
    /// The `reason` of the `login.failed` event.
    pub fn reason(self) -> &'static str {
        match self {
            UpstreamRefusal::Denied => "upstream_denied",
            UpstreamRefusal::Unreachable => "upstream_unreachable",
            UpstreamRefusal::BadState => "upstream_invalid_state",
            UpstreamRefusal::BadAnswer => "upstream_invalid_answer",
            UpstreamRefusal::NoEmail => "upstream_no_email",
            UpstreamRefusal::NoAccount => "no_account",
            UpstreamRefusal::LinkedElsewhere => "identity_linked_elsewhere",
        }
    }
}

/// How a provider's sign-ins may find or make accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountPolicy {
    pub linking: Linking,
    /// The provider may make accounts (its `signup`, and open sign-up).
    pub signup: bool,
}

/// Whose account an upstream sign-in opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Whose {
    /// Rule 1: the identity is linked to this account.
    Linked(Uuid),
    /// Rule 2, both addresses verified under `verified_email`: link to this account and
    /// sign in.
    LinkByEmail(Uuid),
    /// Rule 2 otherwise: this account has the address; its owner must sign in to it with
    /// its own credentials before the identity is linked.
    ProveFirst(Uuid),
    /// Rule 3: a new account from the profile.
    NewAccount,
    /// Rule 3 refused: no account, and this provider may not make one.
    NoAccount,
}

/// Decides whose account `profile` opens: `linked` is the account its identity is linked
/// to, `same_email` the account with its address (compared case-insensitively by the
/// store), if any.
pub fn whose_account(
    linked: Option<Uuid>,
    same_email: Option<&User>,
    profile: &UpstreamProfile,
    policy: AccountPolicy,
) -> Whose {
    if let Some(user_id) = linked {
        return Whose::Linked(user_id);
    }
    match same_email {
        Some(user) => {
            let both_verified = profile.email_verified && user.email_verified;
            match policy.linking == Linking::VerifiedEmail && both_verified {
                true => Whose::LinkByEmail(user.id),
                false => Whose::ProveFirst(user.id),
            }
        }
        None if policy.signup && profile.email.is_some() => Whose::NewAccount,
        None => Whose::NoAccount,
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::domain::user::Email;

    fn user(verified: bool) -> User {
        User {
            id: Uuid::new_v4(),
            name: "Ada".into(),
            email: Email::parse("ada@example.com").unwrap(),
            email_verified: verified,
            disabled: false,
            phone: None,
            password_hash: String::new(),
            is_admin: false,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn profile(verified: bool) -> UpstreamProfile {
        UpstreamProfile {
            subject: "248289761001".into(),
            email: Some("Ada@Example.com".into()),
            email_verified: verified,
            name: Some("Ada Lovelace".into()),
        }
    }

    const TRUSTING: AccountPolicy = AccountPolicy {
        linking: Linking::VerifiedEmail,
        signup: true,
    };
    const CAREFUL: AccountPolicy = AccountPolicy {
        linking: Linking::Confirm,
        signup: true,
    };

    #[test]
    fn a_linked_identity_opens_its_account_whatever_the_addresses() {
        let linked = Uuid::new_v4();
        let other = user(true);
        assert_eq!(
            whose_account(Some(linked), Some(&other), &profile(false), CAREFUL),
            Whose::Linked(linked)
        );
    }

    #[test]
    fn an_address_links_silently_only_when_trusted_and_proven_on_both_sides() {
        let verified = user(true);
        assert_eq!(
            whose_account(None, Some(&verified), &profile(true), TRUSTING),
            Whose::LinkByEmail(verified.id)
        );
        for (local, upstream, policy) in [(true, false, TRUSTING), (false, true, TRUSTING), (true, true, CAREFUL)] {
            let account = user(local);
            assert_eq!(
                whose_account(None, Some(&account), &profile(upstream), policy),
                Whose::ProveFirst(account.id),
                "local verified {local}, upstream verified {upstream}, {policy:?}"
            );
        }
    }

    #[test]
    fn a_new_person_gets_an_account_only_where_sign_up_is_allowed() {
        assert_eq!(whose_account(None, None, &profile(false), CAREFUL), Whose::NewAccount);
        let closed = AccountPolicy {
            signup: false,
            ..CAREFUL
        };
        assert_eq!(whose_account(None, None, &profile(true), closed), Whose::NoAccount);
        let no_address = UpstreamProfile {
            email: None,
            ..profile(true)
        };
        assert_eq!(
            whose_account(None, None, &no_address, CAREFUL),
            Whose::NoAccount,
            "an account needs an address"
        );
    }

    #[test]
    fn names_follow_the_contract() {
        assert!(ProviderId::parse("corp-sso-2").is_ok());
        for bad in ["", "Corp", "corp_sso", "a/b", &"x".repeat(33)] {
            assert!(ProviderId::parse(bad).is_err(), "{bad:?}");
        }
        for kind in ["oidc", "google", "microsoft", "apple", "gitlab", "github"] {
            assert_eq!(ProviderKind::parse(kind).unwrap().as_str(), kind);
        }
        assert!(!ProviderKind::Github.is_openid_connect());
        assert!(ProviderKind::parse("facebook").is_err());
        assert_eq!(Linking::parse("verified_email").unwrap(), Linking::VerifiedEmail);
        assert_eq!(Linking::default(), Linking::Confirm);
    }
}
