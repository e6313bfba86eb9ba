//! Password reset by e-mailed link: how long a link works, how many may be sent, and where
//! it points.

use std::time::Duration;

/// How password resets behave.
#[derive(Debug, Clone)]
pub struct PasswordResetPolicy {
    /// How long a reset link works.
    pub ttl: Duration,
    /// Reset e-mails per address per `rate_window`.
    pub max_per_window: u64,
    pub rate_window: Duration,
    /// Base of the link in the e-mail.
    pub public_url: String,
}

impl PasswordResetPolicy {
    /// The link the reset e-mail carries for `hash`.
    pub fn link(&self, hash: &str) -> String {
        format!("{}/password/recover?hash={hash}", self.public_url.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_joins_the_public_url_and_the_hash_with_one_slash() {
        let policy = PasswordResetPolicy {
            ttl: Duration::from_secs(60),
            max_per_window: 3,
            rate_window: Duration::from_secs(3600),
            public_url: "https://auth.example.com/".into(),
        };
        assert_eq!(policy.link("abc"), "https://auth.example.com/password/recover?hash=abc");
    }
}
