//! Route handlers, one file per capability. Each parses, calls one use case, and shapes
//! the answer; no rule lives here.

pub mod health;
pub mod mfa;
pub mod organizations;
pub mod password;
pub mod sessions;
pub mod tokens;
pub mod users;
