//! The integration tests, one binary (as zero2prod's `tests/api/`): each module a
//! capability, driving the real server over HTTP on SQLite and on PostgreSQL + Redis
//! (`common::Backend`). One binary links the crate once instead of once per file.

#[macro_use]
mod common;

mod admin_cli;
mod audit;
mod breached;
mod cli;
mod config_file;
mod deletion;
#[cfg(feature = "fault-injection")]
mod faults;
mod input_validation;
mod mfa;
mod notices;
mod oidc_clients;
mod oidc_interop;
mod oidc_provider;
mod openapi;
mod operations;
mod organizations;
mod outages;
mod pages;
mod passkeys;
mod password;
mod revocation;
mod sessions;
mod throttling;
mod tokens;
mod upstream;
mod upstream_refusals;
mod usecases;
mod user_sessions;
mod users;
mod verification;
