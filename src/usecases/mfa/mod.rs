//! Second factors: enrolment and validation ([`enrolment`]), recovery codes ([`recovery`]),
//! and the MFA steps of a login ([`challenge`]); [`codes`] is what they share (sending a
//! code, checking a TOTP code).
//!
//! An enrolment's code is kept with the pending factor in the database; login challenges
//! live in the cache (Redis when configured, so each step may land on a different instance)
//! for [`CODE_TTL`](crate::domain::mfa::CODE_TTL). Only keyed digests of codes and hashes
//! are stored. Attempts are numbered with an atomic increment before any comparison and
//! judged by [`CodeVerdict`](crate::domain::mfa::CodeVerdict), so parallel guesses cannot
//! exceed the limit.

pub mod challenge;
pub mod codes;
pub mod enrolment;
pub mod passkeys;
pub mod recovery;
