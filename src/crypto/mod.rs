//! CPU-bound secrets work: password hashing on a bounded pool, and token signing.

pub mod jwt;
pub mod password;
