//! Users and the rules for the values they are made of.

use time::OffsetDateTime;
use uuid::Uuid;

use super::AuthError;

/// A registered account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub name: String,
    pub email: Email,
    /// Whether the current address was proved by a link sent to it.
    pub email_verified: bool,
    /// An operator disabled the account: it cannot sign in.
    pub disabled: bool,
    pub phone: Option<String>,
    /// argon2id PHC string; never leaves the server.
    pub password_hash: String,
    pub is_admin: bool,
    pub created_at: OffsetDateTime,
}

impl User {
    /// Whether the account has a password (one made through an upstream provider has none
    /// until its owner sets one by a reset).
    pub fn has_password(&self) -> bool {
        !self.password_hash.is_empty()
    }
}

/// Longest accepted email, as RFC 5321 allows.
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest accepted display name, in characters.
pub const MAX_NAME_LEN: usize = 128;

/// A syntactically valid email address, kept as typed; `normalized` is the unique key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Checks length and shape: one `@`, a non-empty local part, a dotted domain, no spaces.
    pub fn parse(raw: &str) -> Result<Self, AuthError> {
        let email = raw.trim();
        if email.is_empty() || email.len() > MAX_EMAIL_LEN {
            return Err(AuthError::invalid(
                "email",
                format!("must be 1 to {MAX_EMAIL_LEN} characters"),
            ));
        }
        let valid = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && local.len() <= 64
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains("..")
                    && !email
                        .chars()
                        .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\\\"".contains(c))
            }
            None => false,
        };
        if !valid {
            return Err(AuthError::invalid("email", "is not a valid email address"));
        }
        Ok(Self(email.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive form used for uniqueness and look-ups.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A display name of 1 to 128 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserName(String);

impl UserName {
    pub fn parse(raw: &str) -> Result<Self, AuthError> {
        let name = raw.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > MAX_NAME_LEN {
            return Err(AuthError::invalid(
                "name",
                format!("must be 1 to {MAX_NAME_LEN} characters"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(AuthError::invalid("name", "must not contain control characters"));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in E.164 form: `+`, then 8 to 15 digits, the first not zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, AuthError> {
        let digits = raw.strip_prefix('+').unwrap_or("");
        let valid =
            (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
        if !valid {
            return Err(AuthError::invalid(
                "phone",
                "must be in E.164 form, e.g. +5511999998888",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who may create accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignupMode {
    /// Anyone may sign up.
    Open,
    /// Only administrators may create accounts.
    Admin,
}

impl std::str::FromStr for SignupMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "open" => Ok(SignupMode::Open),
            "admin" => Ok(SignupMode::Admin),
            _ => Err(format!("{text:?} is not one of \"open\", \"admin\"")),
        }
    }
}

/// Who may act on an account: the owner, or an administrator.
pub fn may_manage_user(actor: &User, target_id: Uuid) -> bool {
    actor.id == target_id || actor.is_admin
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_emails_and_normalizes_case() {
        let email = Email::parse("  Ana.Silva+tag@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "Ana.Silva+tag@Example.COM");
        assert_eq!(email.normalized(), "ana.silva+tag@example.com");
    }

    #[test]
    fn rejects_malformed_emails() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@b",
            "a@@b.com",
            "a@.b.com",
            "a@b.com.",
            "a b@c.com",
            "a@b..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn names_are_limited_in_characters_not_bytes() {
        assert!(UserName::parse(&"é".repeat(128)).is_ok());
        assert!(UserName::parse(&"é".repeat(129)).is_err());
        assert!(UserName::parse("   ").is_err());
        assert!(UserName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn phones_must_be_e164() {
        assert!(Phone::parse("+5511999998888").is_ok());
        for bad in [
            "5511999998888",
            "+0511999998888",
            "+55 11 99999",
            "+1234567",
            "+1234567890123456",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
