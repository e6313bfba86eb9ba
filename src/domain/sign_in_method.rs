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
    /// An account at an upstream provider ("Continue with ..."), with no second factor
    /// enrolled here.
    Upstream,
    /// An upstream provider, then the named second factor.
    UpstreamThen(Strategy),
}

impl SignInMethod {
    /// The name stored and recorded in events: `password`, `passkey`, or the second
    /// factor's strategy (`EMAIL`, `PHONE`, `GOOGLE_AUTHENTICATOR`, `PASSKEY`, `RECOVERY_CODE`).
    pub fn as_str(self) -> &'static str {
        match self {
            SignInMethod::Password => "password",
            SignInMethod::SecondFactor(strategy) => strategy.as_str(),
            SignInMethod::Passkey => "passkey",
            SignInMethod::Upstream => "upstream",
            SignInMethod::UpstreamThen(strategy) => match strategy {
                Strategy::Email => "upstream+EMAIL",
                Strategy::Phone => "upstream+PHONE",
                Strategy::Totp => "upstream+GOOGLE_AUTHENTICATOR",
                Strategy::Passkey => "upstream+PASSKEY",
                Strategy::RecoveryCode => "upstream+RECOVERY_CODE",
            },
        }
    }

    /// The method of a sign-in that passed `strategy` after its first factor: the
    /// password, or an upstream provider when `upstream`.
    pub fn then(upstream: bool, strategy: Strategy) -> Self {
        match upstream {
            true => SignInMethod::UpstreamThen(strategy),
            false => SignInMethod::SecondFactor(strategy),
        }
    }

    /// The method [`SignInMethod::as_str`] named, or `None` for a name it never gives.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "password" => Some(SignInMethod::Password),
            "passkey" => Some(SignInMethod::Passkey),
            "upstream" => Some(SignInMethod::Upstream),
            other => match other.strip_prefix("upstream+") {
                Some(strategy) => Strategy::parse(strategy).ok().map(SignInMethod::UpstreamThen),
                None => Strategy::parse(other).ok().map(SignInMethod::SecondFactor),
            },
        }
    }

    /// The `amr` values (RFC 8176): the password alone is `pwd`; a second factor adds its
    /// own (`otp` for codes and recovery codes, `sms` for a text message, `hwk` for a
    /// passkey) and `mfa`; a passkey alone is `hwk` with user verification, so `mfa`. An
    /// upstream provider is `fed` (a federated assertion, as Entra ID names it), in place
    /// of `pwd`.
    pub fn amr(self) -> Vec<&'static str> {
        match self {
            SignInMethod::Upstream => vec!["fed"],
            SignInMethod::UpstreamThen(strategy) => {
                let mut amr = SignInMethod::SecondFactor(strategy).amr();
                amr[0] = "fed";
                amr
            }
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
            SignInMethod::Upstream,
            SignInMethod::UpstreamThen(Strategy::Totp),
            SignInMethod::UpstreamThen(Strategy::RecoveryCode),
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
        assert_eq!(SignInMethod::Upstream.amr(), vec!["fed"]);
        assert_eq!(
            SignInMethod::UpstreamThen(Strategy::Phone).amr(),
            vec!["fed", "sms", "mfa"]
        );
    }
}
