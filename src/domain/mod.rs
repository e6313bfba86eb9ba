//! The core of `authd`: entities, rules and errors. No I/O and no framework types live here,
//! so every rule can be unit-tested with plain values (the current time is always a parameter).

pub mod authorization;
pub mod credential;
pub mod error;
pub mod events;
pub mod flow;
pub mod mfa;
pub mod notification;
pub mod oauth;
pub mod oidc;
pub mod organization;
pub mod password_policy;
pub mod profile;
pub mod redirect_uri;
pub mod reset;
pub mod revocation;
pub mod session;
pub mod sign_in_method;
pub mod throttle;
pub mod token;
pub mod upstream;
pub mod user;
pub mod verification;

pub use error::AuthError;

/// A new record's identity and time, both from the clock port: rules take them as values,
/// so the domain never reads the clock or mints an id itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub id: uuid::Uuid,
    /// Unix seconds.
    pub at: i64,
}

/// A Unix time as the API writes times (RFC 3339, UTC); `None` when out of range.
pub fn rfc3339(unix: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok())
}
