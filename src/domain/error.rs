//! The one error type of the core. The HTTP problem mapping is the only place that turns it
//! into an HTTP answer, so every variant has exactly one status and one stable `code`.

use std::time::Duration;

/// Everything a use case can refuse or fail with.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// Input is malformed or breaks a limit; `field` names what to fix.
    #[error("{field}: {reason}")]
    Validation { field: &'static str, reason: String },
    /// The password is too easy to guess; `feedback` is safe to show (it never echoes the password).
    #[error("password is too weak: {feedback}")]
    WeakPassword { feedback: String },
    /// Unknown email or wrong password; deliberately indistinguishable.
    #[error("email or password is wrong")]
    InvalidCredentials,
    /// No bearer token, or one that is malformed, expired, revoked or badly signed.
    #[error("token is missing, invalid, expired or revoked")]
    InvalidToken,
    /// A token that was rotated away was presented after the grace interval; the session is revoked.
    #[error("token was already rotated; the session has been revoked")]
    TokenReused,
    /// The token in the `Authorization` header differs from the one in the path.
    #[error("the Authorization header carries a different token than the path")]
    TokenMismatch,
    /// Authenticated, but this caller may not do this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The named resource does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Another account already uses this email.
    #[error("email is already taken")]
    EmailTaken,
    /// The user already belongs to the organization.
    #[error("the user is already a member of this organization")]
    AlreadyMember,
    /// The new parent is the organization itself or one of its descendants.
    #[error("the new parent is the organization itself or one of its descendants")]
    CyclicRelationship,
    /// The password is on a list of breached passwords.
    #[error("this password appears in known data breaches; choose another")]
    BreachedPassword,
    /// The right password, but the address is not verified and verification is required.
    #[error("verify your e-mail address first: a new link is on its way")]
    EmailNotVerified,
    /// An operator disabled the account.
    #[error("this account is disabled")]
    AccountDisabled,
    /// The account is the last owner of an organization that has other members.
    #[error("the account is the last owner of an organization with other members; hand it over first")]
    SoleOwner,
    /// Another client already registered this resource (API) URI.
    #[error("another client already registered this resource URI")]
    ResourceTaken,
    /// A sensitive change needs a sign-in or a confirmation of the password (or a second
    /// factor) within the re-authentication window.
    #[error("confirm it is you first: sign in again or confirm your password at POST /login/confirm")]
    ReauthenticationRequired,
    /// Removing this member would leave the organization without an owner.
    #[error("an organization keeps at least one owner")]
    LastOwner,
    /// A one-time code is wrong (or its enrolment or challenge is used up).
    #[error("the code is wrong")]
    InvalidCode,
    /// A WebAuthn response failed verification (signature, challenge, origin, RP ID, flags,
    /// or a ceremony that is unknown, used or expired).
    #[error("the passkey response could not be verified")]
    InvalidPasskey,
    /// An MFA or reset hash is unknown, used or expired.
    #[error("the hash is unknown, used or expired")]
    InvalidHash,
    /// The chosen strategy was not offered for this login.
    #[error("that strategy was not offered for this login")]
    StrategyNotListed,
    /// A PHONE factor needs a phone number on the account.
    #[error("add a phone number to the account first")]
    PhoneRequired,
    /// A validated factor of this strategy exists already.
    #[error("a validated factor of this strategy exists already")]
    FactorExists,
    /// The operation needs at least one validated factor.
    #[error("enable a second factor first")]
    NoValidatedFactor,
    /// Too many attempts; try again after the given time.
    #[error("too many attempts")]
    RateLimited { retry_after: Duration },
    /// A bounded worker pool is full; the caller should retry shortly.
    #[error("server is busy, retry shortly")]
    Overloaded,
    /// The account would be left with no way in (no password, passkey or other identity).
    #[error("this is the account's last way to sign in; add another first")]
    LastCredential,
    /// A sign-in through an upstream provider was refused.
    #[error("the sign-in with the other provider was refused: {}", .0.reason())]
    Upstream(super::upstream::UpstreamRefusal),
    /// A dependency (database, cache, actor) did not answer.
    #[error("{0} is unavailable")]
    Unavailable(&'static str),
}

impl AuthError {
    /// Whether this answers a wrong guess at a secret (password, code, hash), which the
    /// throttle counts against the guesser.
    pub fn is_failed_guess(&self) -> bool {
        matches!(
            self,
            Self::InvalidCredentials | Self::InvalidCode | Self::InvalidHash | Self::InvalidPasskey
        )
    }

    /// Shorthand for a validation failure of one field.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Validation {
            field,
            reason: reason.into(),
        }
    }
}
