//! Security notices: the e-mails that tell an account's owner their password, factors,
//! recovery codes or address changed, or that a new device signed in
//! (`AUTH_SECURITY_NOTICES`, on by default). A notice is queued in the durable outbox like
//! any message; one that cannot be queued is logged and never fails the change it reports.

use std::sync::Arc;

use super::Ports;
use crate::domain::notification::{DeliveryChannel, Notice, SecurityNotice};
use crate::domain::user::Email;
use crate::ports::Messages;

/// Sends security notices when they are on.
pub struct Notices {
    messages: Arc<dyn Messages>,
    enabled: bool,
}

impl Notices {
    pub fn new(ports: &Ports, enabled: bool) -> Self {
        Self {
            messages: ports.messages.clone(),
            enabled,
        }
    }

    /// Whether notices are sent at all, so callers can skip the work of deciding on one.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Tells the owner of `address` about `notice`.
    pub async fn tell(&self, address: &Email, notice: SecurityNotice) {
        if !self.enabled {
            return;
        }
        let kind = notice.kind();
        let queued = self
            .messages
            .send(Notice::Security(notice), DeliveryChannel::Email, address.as_str())
            .await;
        if let Err(err) = queued {
            tracing::warn!(%err, notice = kind, "security notice not queued");
        }
    }
}
