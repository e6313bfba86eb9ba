//! The audit log as users and administrators read it, and its retention.

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use super::{account_of, Ports};
use crate::domain::events::{EventKind, EventQuery, SecurityEvent};
use crate::domain::token::Claims;
use crate::domain::AuthError;
use crate::ports::{Clock, EventLog, UserStore};

/// Most events one page returns.
pub const MAX_EVENTS_PAGE: u32 = 100;

/// What an administrator filters the log by.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub user_id: Option<Uuid>,
    pub kind: Option<String>,
    /// Unix seconds.
    pub since: Option<i64>,
}

/// One page of events, newest first.
#[derive(Debug)]
pub struct EventPage {
    pub events: Vec<SecurityEvent>,
    pub next_cursor: Option<Uuid>,
}

/// Reads and prunes the audit log.
pub struct Audit {
    users: Arc<dyn UserStore>,
    log: Arc<dyn EventLog>,
    clock: Arc<dyn Clock>,
    retention: Duration,
}

impl Audit {
    pub fn new(ports: &Ports, retention: Duration) -> Self {
        Self {
            users: ports.users.clone(),
            log: ports.event_log.clone(),
            clock: ports.clock.clone(),
            retention,
        }
    }

    /// The caller's own events.
    pub async fn own_events(
        &self,
        caller: &Claims,
        limit: Option<u32>,
        cursor: Option<Uuid>,
    ) -> Result<EventPage, AuthError> {
        let filter = EventFilter {
            user_id: Some(caller.sub),
            ..EventFilter::default()
        };
        self.page(filter, limit, cursor).await
    }

    /// Everyone's events, filtered; administrators only.
    pub async fn all_events(
        &self,
        caller: &Claims,
        filter: EventFilter,
        limit: Option<u32>,
        cursor: Option<Uuid>,
    ) -> Result<EventPage, AuthError> {
        if !account_of(self.users.as_ref(), caller).await?.is_admin {
            return Err(AuthError::Forbidden(
                "only administrators may read every account's events",
            ));
        }
        self.page(filter, limit, cursor).await
    }

    async fn page(
        &self,
        filter: EventFilter,
        limit: Option<u32>,
        cursor: Option<Uuid>,
    ) -> Result<EventPage, AuthError> {
        let limit = limit.unwrap_or(50);
        if !(1..=MAX_EVENTS_PAGE).contains(&limit) {
            return Err(AuthError::invalid("limit", format!("must be 1 to {MAX_EVENTS_PAGE}")));
        }
        let kind = filter
            .kind
            .as_deref()
            .map(|name| EventKind::parse(name).ok_or_else(|| AuthError::invalid("type", "is not an event type")))
            .transpose()?;
        let query = EventQuery {
            user_id: filter.user_id,
            kind,
            since: filter.since,
            before: cursor,
            limit,
        };
        let events = self.log.events(&query).await?;
        let next_cursor = if events.len() == limit as usize {
            events.last().map(|event| event.id)
        } else {
            None
        };
        Ok(EventPage { events, next_cursor })
    }

    /// Every event of one account, for its export (at most `cap`, newest first).
    pub(crate) async fn everything_about(&self, user_id: Uuid, cap: u32) -> Result<Vec<SecurityEvent>, AuthError> {
        let query = EventQuery {
            user_id: Some(user_id),
            limit: cap,
            ..EventQuery::default()
        };
        Ok(self.log.events(&query).await?)
    }

    /// Deletes events past the retention; run in the background.
    pub async fn prune(&self) -> Result<u64, AuthError> {
        let before = self.clock.unix_now() - self.retention.as_secs() as i64;
        let pruned = self.log.prune_events(before).await?;
        metrics::counter!(crate::telemetry::metrics::EVENTS_PRUNED).increment(pruned);
        Ok(pruned)
    }
}
