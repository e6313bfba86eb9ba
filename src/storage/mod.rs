//! Adapters for the storage and cache ports.
//!
//! - [`sql::SqlStore`]: users, sessions and the revocation log on SQLite or PostgreSQL.
//! - [`redis::RedisCache`]: shared attempt counters and the revocation bus over Redis.
//! - [`memory`]: in-process counters and a local-only bus for the single-binary default.
//! - [`fallback::FallbackCache`]: the shared cache, with in-process memory standing in
//!   while it is down (the rate-limit counters use it).

pub mod fallback;
pub mod memory;
pub mod redis;
pub mod sql;
