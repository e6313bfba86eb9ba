//! E-mail verification: whether links are sent and whether sign-in waits for one, how long
//! a link works, and where it points.

use std::str::FromStr;
use std::time::Duration;

/// `AUTH_EMAIL_VERIFICATION`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VerificationMode {
    /// No link is sent on its own (a user may still ask for one); sign-in never waits.
    Off,
    /// A link is sent at sign-up and after an e-mail change; sign-in does not wait for it.
    #[default]
    Optional,
    /// As `Optional`, and a correct password for an unverified address is refused.
    Required,
}

impl FromStr for VerificationMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "off" => Ok(Self::Off),
            "optional" => Ok(Self::Optional),
            "required" => Ok(Self::Required),
            other => Err(format!("expected off, optional or required, not {other:?}")),
        }
    }
}

/// How verification behaves.
#[derive(Debug, Clone)]
pub struct VerificationPolicy {
    pub mode: VerificationMode,
    /// How long a link works (24 h by the contract).
    pub ttl: Duration,
    /// Verification e-mails per account per `rate_window`, like reset e-mails.
    pub max_per_window: u64,
    pub rate_window: Duration,
    /// Base of the link in the e-mail.
    pub public_url: String,
}

impl VerificationPolicy {
    /// Whether a link goes out by itself at sign-up and after an e-mail change.
    pub fn sends_links(&self) -> bool {
        self.mode != VerificationMode::Off
    }

    /// Whether sign-in is refused to an account whose address is not verified.
    pub fn blocks_sign_in(&self, email_verified: bool) -> bool {
        self.mode == VerificationMode::Required && !email_verified
    }

    /// The link the verification e-mail carries for `hash`.
    pub fn link(&self, hash: &str) -> String {
        format!("{}/user/verify?hash={hash}", self.public_url.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(mode: VerificationMode) -> VerificationPolicy {
        VerificationPolicy {
            mode,
            ttl: Duration::from_secs(86_400),
            max_per_window: 3,
            rate_window: Duration::from_secs(3600),
            public_url: "https://auth.example.com/".into(),
        }
    }

    #[test]
    fn only_required_blocks_an_unverified_sign_in() {
        assert!(policy(VerificationMode::Required).blocks_sign_in(false));
        assert!(!policy(VerificationMode::Required).blocks_sign_in(true));
        assert!(!policy(VerificationMode::Optional).blocks_sign_in(false));
        assert!(!policy(VerificationMode::Off).blocks_sign_in(false));
    }

    #[test]
    fn off_sends_no_link_by_itself() {
        assert!(!policy(VerificationMode::Off).sends_links());
        assert!(policy(VerificationMode::Optional).sends_links());
    }

    #[test]
    fn modes_parse_case_insensitively_and_reject_others() {
        assert_eq!("Required".parse::<VerificationMode>(), Ok(VerificationMode::Required));
        assert!("maybe".parse::<VerificationMode>().is_err());
    }

    #[test]
    fn the_link_points_at_the_verify_route() {
        assert_eq!(
            policy(VerificationMode::Optional).link("abc"),
            "https://auth.example.com/user/verify?hash=abc"
        );
    }
}
