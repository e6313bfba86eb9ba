//! The core of `authd`: entities, rules and errors. No I/O and no framework types live here,
//! so every rule can be unit-tested with plain values (the current time is always a parameter).

pub mod credential;
pub mod error;
pub mod events;
pub mod mfa;
pub mod notification;
pub mod organization;
pub mod password_policy;
pub mod profile;
pub mod reset;
pub mod revocation;
pub mod session;
pub mod throttle;
pub mod token;
pub mod user;
pub mod verification;

pub use error::AuthError;
