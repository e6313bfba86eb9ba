//! Prometheus metrics: one process-wide recorder (the `metrics` facade) and the names of
//! everything recorded, so dashboards and code agree.
//!
//! - HTTP: requests and latency by method, route template (never a raw path) and status.
//! - Actors: messages handled, handling time, mailbox depth, restarts and failures.
//! - Domain: logins, tokens, revocations, reuse, notifications, rate-limit rejections,
//!   security events by type.

use std::sync::OnceLock;
use std::time::Instant;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const HTTP_REQUESTS: &str = "authd_http_requests_total";
pub const HTTP_DURATION: &str = "authd_http_request_duration_seconds";
/// Client address headers that could not be read (the peer address was used instead).
pub const CLIENT_ADDRESS_UNPARSABLE: &str = "authd_client_address_unparsable_total";
pub const ACTOR_MESSAGES: &str = "authd_actor_messages_total";
pub const ACTOR_HANDLING: &str = "authd_actor_handling_seconds";
pub const ACTOR_MAILBOX: &str = "authd_actor_mailbox_depth";
pub const ACTOR_RESTARTS: &str = "authd_actor_restarts_total";
pub const ACTOR_FAILURES: &str = "authd_actor_failures_total";
pub const LOGINS: &str = "authd_logins_total";
pub const TOKENS_ISSUED: &str = "authd_tokens_issued_total";
pub const TOKENS_REFRESHED: &str = "authd_tokens_refreshed_total";
pub const TOKENS_REVOKED: &str = "authd_tokens_revoked_total";
pub const TOKEN_REUSE: &str = "authd_token_reuse_detected_total";
pub const NOTIFICATIONS: &str = "authd_notifications_total";
pub const RATE_LIMITED: &str = "authd_rate_limited_total";
/// Security events by `type` (see [`crate::domain::events::EventKind`]).
pub const SECURITY_EVENTS: &str = "authd_security_events_total";
/// Security events that could not be written to the audit log.
pub const SECURITY_EVENTS_LOST: &str = "authd_security_events_lost_total";
/// Pwned Passwords lookups by `outcome` (`breached`, `clean`, `unreachable`).
/// Requests to upstream identity providers by `provider` and `call` (`discovery`, `jwks`,
/// `token`, `userinfo`, `api`).
pub const UPSTREAM_REQUESTS: &str = "authd_upstream_requests_total";
pub const BREACH_LOOKUPS: &str = "authd_breached_password_lookups_total";
/// Audit-log events deleted for being older than the retention.
pub const EVENTS_PRUNED: &str = "authd_security_events_pruned_total";
/// Entries in this instance's revoked set: revoked sessions, plus one per session rotated
/// within a token lifetime; grows with sessions, never with the refresh rate.
pub const REVOCATIONS_TRACKED: &str = "authd_revocations_tracked";
/// 1 while rate limits are counted in-process because the shared cache is down.
pub const CACHE_FALLBACK: &str = "authd_cache_fallback";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the recorder once per process and returns the handle that renders it.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let latency = [
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ];
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), &latency)
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full(ACTOR_HANDLING.into()), &latency))
                .expect("bucket lists are not empty");
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be set (an embedding program); then ours only renders.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Records that `actor` handled a message of `kind` that started at `started`.
pub fn actor_handled(actor: &'static str, kind: &'static str, started: Instant) {
    metrics::counter!(ACTOR_MESSAGES, "actor" => actor, "message" => kind).increment(1);
    metrics::histogram!(ACTOR_HANDLING, "actor" => actor).record(started.elapsed().as_secs_f64());
}

/// A message entered (`+1`) or left (`-1`) the mailbox of `actor`.
pub fn mailbox(actor: &'static str, delta: f64) {
    metrics::gauge!(ACTOR_MAILBOX, "actor" => actor).increment(delta);
}

/// A notification changed state (`queued`, `sent`, `retried`, `failed`).
pub fn notification(channel: &'static str, outcome: &'static str) {
    metrics::counter!(NOTIFICATIONS, "channel" => channel, "outcome" => outcome).increment(1);
}
