//! Background work the composition root runs beside the actors.

use std::sync::Arc;
use std::time::Duration;

use crate::storage::sql::SqlStore;
use crate::usecases::audit::Audit;

/// Prunes the audit log now and then every `every`, for as long as the server runs.
pub(super) async fn prune_events(audit: Arc<Audit>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        match audit.prune().await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "pruned security events past their retention"),
            Err(err) => tracing::warn!(%err, "could not prune security events; will try again"),
        }
    }
}

/// Deletes lapsed challenges, ceremonies and counters from the database every `every`.
pub(super) async fn prune_ephemeral(store: SqlStore, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        if let Err(err) = store.prune_ephemeral().await {
            tracing::warn!(%err, "could not prune lapsed challenges; will try again");
        }
    }
}
