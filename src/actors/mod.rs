//! The actor system: one supervisor and the actors it keeps alive.
//!
//! - [`revocation::RevocationActor`] owns this instance's view of revoked sessions and tokens.
//! - [`sessions::SessionActor`] opens, rotates and closes sessions.
//! - [`mfa::MfaActor`] sequences the steps of each MFA login challenge.
//! - [`notifications::NotificationActor`] delivers queued e-mail, SMS and WhatsApp messages.
//!
//! Actors own their state and its sequencing; database and network work runs in tasks they
//! spawn, whose results come back as messages, so no actor loop ever waits on I/O.

#[cfg(feature = "fault-injection")]
pub mod fault;
pub mod mfa;
pub mod notifications;
pub mod revocation;
pub mod sessions;
pub mod slot;
pub mod supervisor;

pub use slot::ActorSlot;
