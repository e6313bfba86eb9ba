//! `authd`: a small, fast, self-hostable authentication server.
//!
//! Layout (see `docs/ARCHITECTURE.md`): [`domain`] holds the rules, [`ports`] the traits the
//! rules need, [`storage`] and [`crypto`] the adapters, [`actors`] the supervised actors,
//! [`usecases`] what can be asked, [`http`] the front end, and [`app`] wires it all.

pub mod actors;
pub mod app;
pub mod config;
pub mod config_file;
pub mod crypto;
pub mod domain;
pub mod federation;
pub mod http;
pub mod notifications;
pub mod ports;
pub mod storage;
pub mod telemetry;
pub mod upstream_config;
pub mod usecases;
