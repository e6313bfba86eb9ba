//! How a person proved who they are when a session began: one variant per way in. It
//! names the sign-in event's `method`, is kept on the session (and on an authorization
//! code), and becomes an ID token's `amr` (RFC 8176).

use super::mfa::Strategy;

/// How a session's holder signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInMethod {
    /// E-mail and password, with no second factor enrolled.
    Password,
    /// The password, then the named second factor.
    SecondFactor(Strategy),
    /// A passkey alone, user verified (both factors at once).
    Passkey,
}

impl SignInMethod {
    /// The name stored and recorded in events: `password`, `passkey`, or the second
    /// factor's strategy (`EMAIL`, `PHONE`, `GOOGLE_AUTHENTICATOR`, `PASSKEY`, `RECOVERY_CODE`).
    pub fn as_str(self) -> &'static str {
        match self {
            SignInMethod::Password => "password",
            SignInMethod::SecondFactor(strategy) => strategy.as_str(),
            SignInMethod::Passkey => "passkey",
        }
    }

    /// The method [`SignInMethod::as_str`] named, or `None` for a name it never gives.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "password" => Some(SignInMethod::Password),
            "passkey" => Some(SignInMethod::Passkey),
            other => Strategy::parse(other).ok().map(SignInMethod::SecondFactor),
        }
    }

    /// The `amr` values (RFC 8176): the password alone is `pwd`; a second factor adds its
    /// own (`otp` for codes and recovery codes, `sms` for a text message, `hwk` for a
    /// passkey) and `mfa`; a passkey alone is `hwk` with user verification, so `mfa`.
    pub fn amr(self) -> Vec<&'static str> {
        match self {
            SignInMethod::Password => vec!["pwd"],
            SignInMethod::Passkey => vec!["hwk", "user", "mfa"],
            SignInMethod::SecondFactor(Strategy::Passkey) => vec!["pwd", "hwk", "mfa"],
            SignInMethod::SecondFactor(Strategy::Phone) => vec!["pwd", "sms", "mfa"],
            SignInMethod::SecondFactor(Strategy::Email | Strategy::Totp | Strategy::RecoveryCode) => {
                vec!["pwd", "otp", "mfa"]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_round_trips_through_its_name() {
        let all = [
            SignInMethod::Password,
            SignInMethod::Passkey,
            SignInMethod::SecondFactor(Strategy::Email),
            SignInMethod::SecondFactor(Strategy::Phone),
            SignInMethod::SecondFactor(Strategy::Totp),
            SignInMethod::SecondFactor(Strategy::Passkey),
            SignInMethod::SecondFactor(Strategy::RecoveryCode),
        ];
        for method in all {
            assert_eq!(SignInMethod::parse(method.as_str()), Some(method));
        }
        assert_eq!(SignInMethod::parse("magic"), None);
    }

    #[test]
    fn amr_names_the_factors_used() {
        assert_eq!(SignInMethod::Password.amr(), vec!["pwd"]);
        assert!(SignInMethod::SecondFactor(Strategy::Totp).amr().contains(&"mfa"));
        assert!(SignInMethod::SecondFactor(Strategy::Phone).amr().contains(&"sms"));
        assert!(SignInMethod::Passkey.amr().contains(&"hwk"));
    }
}
