//! Adapters for the storage and cache ports.
//!
//! - [`sql::SqlStore`]: users, sessions and the revocation log on SQLite or PostgreSQL, and
//!   on PostgreSQL the cache of MFA challenges and passkey ceremonies.
//! - [`redis::RedisCache`]: shared rate-limit counters and the revocation bus over Redis.
//! - [`memory`]: in-process counters and a local-only bus for the single-binary default.
//! - [`fallback::FallbackCache`]: the shared cache, with in-process memory standing in
//!   while it is down (the rate-limit counters use it).
//! - `cache_contract` (tests only): what every cache adapter must do, run by each.

#[cfg(test)]
pub(crate) mod cache_contract;
pub mod fallback;
pub mod memory;
pub mod redis;
pub mod sql;
