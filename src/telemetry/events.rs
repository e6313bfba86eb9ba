//! Security events as metrics: the first adapter of the [`SecurityEvents`] port. It counts
//! each event by type and logs it at debug level (kind and account only: the details of an
//! event are for the audit log, and an origin's address is not a metric label).

use async_trait::async_trait;

use super::metrics::SECURITY_EVENTS;
use crate::domain::events::SecurityEvent;
use crate::ports::SecurityEvents;

/// Counts security events in `/metrics` as `authd_security_events_total{type="..."}`.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountedEvents;

#[async_trait]
impl SecurityEvents for CountedEvents {
    async fn record(&self, event: SecurityEvent) {
        metrics::counter!(SECURITY_EVENTS, "type" => event.kind.as_str()).increment(1);
        tracing::debug!(event = event.kind.as_str(), user = ?event.user_id, "security event");
    }
}
