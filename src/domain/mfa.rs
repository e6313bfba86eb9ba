//! Second factors: strategies, factors, the state of enrolments and login challenges, and
//! the limits that bound guessing.

use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::AuthError;

/// How long a sent code, and any MFA challenge, stays usable.
pub const CODE_TTL: Duration = Duration::from_secs(600);
/// Wrong codes after which an enrolment or a login challenge is void.
pub const MAX_CODE_ATTEMPTS: u64 = 5;
/// Recovery codes in one set.
pub const RECOVERY_CODES_PER_SET: usize = 10;

/// A kind of second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Strategy {
    #[serde(rename = "EMAIL")]
    Email,
    #[serde(rename = "PHONE")]
    Phone,
    #[serde(rename = "GOOGLE_AUTHENTICATOR")]
    Totp,
    #[serde(rename = "RECOVERY_CODE")]
    RecoveryCode,
    /// A WebAuthn credential; a user may hold several.
    #[serde(rename = "PASSKEY")]
    Passkey,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Email => "EMAIL",
            Strategy::Phone => "PHONE",
            Strategy::Totp => "GOOGLE_AUTHENTICATOR",
            Strategy::RecoveryCode => "RECOVERY_CODE",
            Strategy::Passkey => "PASSKEY",
        }
    }

    /// Parses a strategy as clients name it (`TOTP` is an alias of `GOOGLE_AUTHENTICATOR`).
    pub fn parse(text: &str) -> Result<Self, AuthError> {
        match text {
            "EMAIL" => Ok(Strategy::Email),
            "PHONE" => Ok(Strategy::Phone),
            "GOOGLE_AUTHENTICATOR" | "TOTP" => Ok(Strategy::Totp),
            "RECOVERY_CODE" => Ok(Strategy::RecoveryCode),
            "PASSKEY" => Ok(Strategy::Passkey),
            _ => Err(AuthError::invalid(
                "strategy",
                "must be EMAIL, PHONE, GOOGLE_AUTHENTICATOR (or TOTP), PASSKEY or RECOVERY_CODE",
            )),
        }
    }

    /// A strategy that can be enrolled as a factor (recovery codes are made, not enrolled).
    pub fn parse_enrollable(text: &str) -> Result<Self, AuthError> {
        match Self::parse(text)? {
            Strategy::RecoveryCode => Err(AuthError::invalid(
                "strategy",
                "recovery codes come from POST /mfa/recovery",
            )),
            strategy => Ok(strategy),
        }
    }

    /// Whether a code is sent (EMAIL, PHONE) rather than known to the user (TOTP, recovery).
    pub fn sends_code(self) -> bool {
        matches!(self, Strategy::Email | Strategy::Phone)
    }
}

/// How a PHONE code travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhoneChannel {
    Sms,
    Whatsapp,
}

impl PhoneChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneChannel::Sms => "sms",
            PhoneChannel::Whatsapp => "whatsapp",
        }
    }

    /// `sms` (the default) or `whatsapp`.
    pub fn parse(text: Option<&str>) -> Result<Self, AuthError> {
        match text.unwrap_or("sms") {
            "sms" => Ok(PhoneChannel::Sms),
            "whatsapp" => Ok(PhoneChannel::Whatsapp),
            _ => Err(AuthError::invalid("channel", "must be \"sms\" or \"whatsapp\"")),
        }
    }
}

/// An enrolled second factor; usable once `enabled` (validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Factor {
    pub id: Uuid,
    pub user_id: Uuid,
    pub strategy: Strategy,
    pub channel: Option<PhoneChannel>,
    pub enabled: bool,
    /// TOTP seed, encrypted under the data key.
    pub secret_ciphertext: Option<String>,
    pub last_used_step: Option<i64>,
    /// EMAIL/PHONE enrolment: digest of the code sent, and when it expires (Unix seconds).
    pub code_digest: Option<String>,
    pub code_expires_at: Option<i64>,
    pub created_at: i64,
    /// A passkey's name.
    pub name: Option<String>,
}

/// What a user needs to add a TOTP factor to an authenticator app, shown once. Each part
/// holds the seed, so each is kept as a secret.
#[derive(Debug, Clone)]
pub struct TotpProvisioning {
    pub secret_base32: SecretString,
    pub otpauth_uri: SecretString,
    /// `data:image/png;base64,...`
    pub qr_code: SecretString,
}

/// A login that passed the password check and waits for a second factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginChallenge {
    pub user_id: Uuid,
    pub strategies: Vec<Strategy>,
    /// The upstream provider (its id) that was the first factor; `None`: the password.
    #[serde(default)]
    pub upstream: Option<String>,
}

impl LoginChallenge {
    /// The strategy the user chose, if it was offered.
    pub fn choose(&self, strategy: Strategy) -> Result<Strategy, AuthError> {
        if self.strategies.contains(&strategy) {
            Ok(strategy)
        } else {
            Err(AuthError::StrategyNotListed)
        }
    }
}

/// The code step of an MFA login, after the user chose a strategy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeChallenge {
    pub user_id: Uuid,
    pub strategy: Strategy,
    /// The factor whose code is expected (none for recovery codes).
    pub factor_id: Option<Uuid>,
    /// Digest of the code sent (EMAIL and PHONE only).
    pub code_digest: Option<String>,
    /// The WebAuthn ceremony state the assertion must answer (PASSKEY only).
    #[serde(default)]
    pub passkey_state: Option<String>,
    /// The upstream provider that was the first factor, carried over from the login step.
    #[serde(default)]
    pub upstream: Option<String>,
}

/// The code step a chosen strategy leads to: its hash, and for PASSKEY the request options
/// (`PublicKeyCredentialRequestOptionsJSON`) to pass to the authenticator.
#[derive(Debug, Clone)]
pub struct ChosenStep {
    pub hash: String,
    pub public_key: Option<serde_json::Value>,
}

/// What a user answers a second-factor step with: a code, or a WebAuthn assertion (the
/// `AuthenticationResponseJSON` of the browser, as sent).
#[derive(Debug, Clone)]
pub enum FactorAnswer {
    Code(SecretString),
    Passkey(serde_json::Value),
}

/// A registered passkey. `passkey` is the verifier's own record of it (public key, sign
/// counter, flags), opaque to the core; nothing in it is secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPasskey {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// base64url, unique across all accounts.
    pub credential_id: String,
    pub passkey: String,
    /// False once its sign counter went backwards (a cloned authenticator).
    pub enabled: bool,
    pub created_at: i64,
}

/// A passkey registration waiting for the authenticator's answer: listed among the
/// account's factors (not enabled) until it is answered, withdrawn or `expires_at` passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRegistration {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Longest passkey name, in characters.
pub const MAX_PASSKEY_NAME: usize = 64;

/// The name a passkey is listed under: as given (trimmed, 1 to 64 characters), or "Passkey".
pub fn passkey_name(given: Option<&str>) -> Result<String, AuthError> {
    match given.map(str::trim) {
        None | Some("") => Ok("Passkey".to_owned()),
        Some(name) if name.chars().count() <= MAX_PASSKEY_NAME && !name.chars().any(char::is_control) => {
            Ok(name.to_owned())
        }
        Some(_) => Err(AuthError::invalid(
            "name",
            format!("must be 1 to {MAX_PASSKEY_NAME} printable characters"),
        )),
    }
}

/// The verdict on one numbered attempt at a code (an enrolment's or a login challenge's).
///
/// Attempts are numbered by an atomic count taken *before* the code is compared, so
/// parallel guesses cannot exceed [`MAX_CODE_ATTEMPTS`]: a numbered attempt past the limit
/// is refused without comparing, and the wrong code that uses the last attempt also voids
/// what it was aimed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeVerdict {
    /// The code is right.
    Accepted,
    /// The code is wrong; attempts remain.
    Wrong,
    /// The code is wrong and was the last attempt: void the enrolment or challenge.
    WrongAndSpent,
    /// The attempts were used up before this one: void it, compare nothing.
    Exhausted,
}

impl CodeVerdict {
    /// Whether attempt number `attempt` (1-based) may still be compared at all.
    pub fn may_compare(attempt: u64) -> bool {
        attempt <= MAX_CODE_ATTEMPTS
    }

    /// The verdict on attempt number `attempt`, whose code matched or not; `matched` is
    /// `None` when the attempt was past the limit and so was never compared.
    pub fn of(attempt: u64, matched: Option<bool>) -> Self {
        match matched {
            _ if !Self::may_compare(attempt) => CodeVerdict::Exhausted,
            None => CodeVerdict::Exhausted,
            Some(true) => CodeVerdict::Accepted,
            Some(false) if attempt == MAX_CODE_ATTEMPTS => CodeVerdict::WrongAndSpent,
            Some(false) => CodeVerdict::Wrong,
        }
    }

    /// Whether what the code was aimed at must be voided.
    pub fn voids(self) -> bool {
        matches!(self, CodeVerdict::WrongAndSpent | CodeVerdict::Exhausted)
    }
}

/// The strategies a user may pick at login: each enabled factor's, plus recovery codes
/// while any are unused.
pub fn login_strategies(factors: &[Factor], has_recovery_codes: bool) -> Vec<Strategy> {
    let mut strategies: Vec<Strategy> = factors.iter().filter(|f| f.enabled).map(|f| f.strategy).collect();
    strategies.sort_by_key(|s| s.as_str());
    strategies.dedup();
    if has_recovery_codes && !strategies.is_empty() {
        strategies.push(Strategy::RecoveryCode);
    }
    strategies
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factor(strategy: Strategy, enabled: bool) -> Factor {
        Factor {
            id: Uuid::new_v4(),
            user_id: Uuid::nil(),
            strategy,
            channel: None,
            enabled,
            secret_ciphertext: None,
            last_used_step: None,
            code_digest: None,
            code_expires_at: None,
            name: None,
            created_at: 0,
        }
    }

    #[test]
    fn passkey_names_default_and_are_bounded() {
        assert_eq!(passkey_name(None).unwrap(), "Passkey");
        assert_eq!(passkey_name(Some("  Laptop ")).unwrap(), "Laptop");
        assert!(passkey_name(Some(&"x".repeat(65))).is_err());
        assert!(passkey_name(Some("bad\u{7}")).is_err());
    }

    #[test]
    fn totp_is_an_alias_and_unknown_strategies_are_refused() {
        assert_eq!(Strategy::parse("TOTP").unwrap(), Strategy::Totp);
        assert_eq!(Strategy::parse("GOOGLE_AUTHENTICATOR").unwrap(), Strategy::Totp);
        assert!(Strategy::parse("SMS").is_err());
        assert!(Strategy::parse_enrollable("RECOVERY_CODE").is_err());
    }

    #[test]
    fn only_enabled_factors_are_offered_and_recovery_codes_only_with_one() {
        let factors = [
            factor(Strategy::Email, true),
            factor(Strategy::Phone, false),
            factor(Strategy::Totp, true),
        ];
        assert_eq!(
            login_strategies(&factors, true),
            [Strategy::Email, Strategy::Totp, Strategy::RecoveryCode]
        );
        assert_eq!(login_strategies(&factors, false), [Strategy::Email, Strategy::Totp]);
        assert!(login_strategies(&[factor(Strategy::Phone, false)], true).is_empty());
    }

    #[test]
    fn a_challenge_accepts_only_offered_strategies() {
        let challenge = LoginChallenge {
            user_id: Uuid::nil(),
            strategies: vec![Strategy::Email],
            upstream: None,
        };
        assert_eq!(challenge.choose(Strategy::Email).unwrap(), Strategy::Email);
        assert!(matches!(
            challenge.choose(Strategy::Totp),
            Err(AuthError::StrategyNotListed)
        ));
    }

    #[test]
    fn the_fifth_wrong_code_voids_and_a_sixth_is_never_compared() {
        assert_eq!(CodeVerdict::of(1, Some(true)), CodeVerdict::Accepted);
        assert_eq!(CodeVerdict::of(1, Some(false)), CodeVerdict::Wrong);
        assert_eq!(CodeVerdict::of(MAX_CODE_ATTEMPTS, Some(true)), CodeVerdict::Accepted);
        assert_eq!(
            CodeVerdict::of(MAX_CODE_ATTEMPTS, Some(false)),
            CodeVerdict::WrongAndSpent
        );
        assert!(!CodeVerdict::may_compare(MAX_CODE_ATTEMPTS + 1));
        assert_eq!(
            CodeVerdict::of(MAX_CODE_ATTEMPTS + 1, Some(true)),
            CodeVerdict::Exhausted
        );
        assert!(CodeVerdict::WrongAndSpent.voids() && CodeVerdict::Exhausted.voids());
        assert!(!CodeVerdict::Wrong.voids() && !CodeVerdict::Accepted.voids());
    }

    #[test]
    fn channels_default_to_sms() {
        assert_eq!(PhoneChannel::parse(None).unwrap(), PhoneChannel::Sms);
        assert_eq!(PhoneChannel::parse(Some("whatsapp")).unwrap(), PhoneChannel::Whatsapp);
        assert!(PhoneChannel::parse(Some("pigeon")).is_err());
    }
}
