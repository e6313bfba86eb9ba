//! Security events: what happened to an account, for the audit log, webhooks and metrics.
//! An event never carries a password, code, hash, token or TOTP seed; `data` holds only
//! what is safe to show the account's owner and its administrators.

use std::net::IpAddr;

use uuid::Uuid;

/// The kinds of security event, named as the contract names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    UserCreated,
    UserUpdated,
    UserDeleted,
    EmailVerified,
    LoginSucceeded,
    LoginFailed,
    MfaFailed,
    MfaFactorAdded,
    MfaFactorRemoved,
    RecoveryCodesCreated,
    PasswordChanged,
    PasswordReset,
    SessionRevoked,
    SessionReuseDetected,
    OrganizationMemberAdded,
    OrganizationMemberRemoved,
    IdentityLinked,
    IdentityUnlinked,
}

impl EventKind {
    /// Every kind, for documentation and tests.
    pub const ALL: [EventKind; 18] = [
        EventKind::UserCreated,
        EventKind::UserUpdated,
        EventKind::UserDeleted,
        EventKind::EmailVerified,
        EventKind::LoginSucceeded,
        EventKind::LoginFailed,
        EventKind::MfaFailed,
        EventKind::MfaFactorAdded,
        EventKind::MfaFactorRemoved,
        EventKind::RecoveryCodesCreated,
        EventKind::PasswordChanged,
        EventKind::PasswordReset,
        EventKind::SessionRevoked,
        EventKind::SessionReuseDetected,
        EventKind::OrganizationMemberAdded,
        EventKind::OrganizationMemberRemoved,
        EventKind::IdentityLinked,
        EventKind::IdentityUnlinked,
    ];

    /// The kind named `text`, as an API filter names it.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// The event's `type`, e.g. `login.succeeded`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::UserCreated => "user.created",
            EventKind::UserUpdated => "user.updated",
            EventKind::UserDeleted => "user.deleted",
            EventKind::EmailVerified => "email.verified",
            EventKind::LoginSucceeded => "login.succeeded",
            EventKind::LoginFailed => "login.failed",
            EventKind::MfaFailed => "mfa.failed",
            EventKind::MfaFactorAdded => "mfa.factor_added",
            EventKind::MfaFactorRemoved => "mfa.factor_removed",
            EventKind::RecoveryCodesCreated => "recovery_codes.created",
            EventKind::PasswordChanged => "password.changed",
            EventKind::PasswordReset => "password.reset",
            EventKind::SessionRevoked => "session.revoked",
            EventKind::SessionReuseDetected => "session.reuse_detected",
            EventKind::OrganizationMemberAdded => "organization.member_added",
            EventKind::OrganizationMemberRemoved => "organization.member_removed",
            EventKind::IdentityLinked => "identity.linked",
            EventKind::IdentityUnlinked => "identity.unlinked",
        }
    }
}

/// Where a request came from: the client address and what it says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub ip: IpAddr,
    pub user_agent: Option<String>,
}

/// One thing that happened to an account.
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityEvent {
    pub id: Uuid,
    pub kind: EventKind,
    /// The account it concerns; `None` when a request named no known account.
    pub user_id: Option<Uuid>,
    /// Unix seconds.
    pub at: i64,
    /// `None` for what the server does by itself (e.g. reuse detected during a refresh
    /// the client did not send from a known origin).
    pub origin: Option<Origin>,
    /// Safe details: a strategy, a factor or session id, a failure reason.
    pub data: serde_json::Map<String, serde_json::Value>,
}

impl SecurityEvent {
    /// An event of `kind` about `user_id`, named and timed by `stamp`, with no origin or
    /// details yet.
    pub fn new(kind: EventKind, user_id: Option<Uuid>, stamp: super::Stamp) -> Self {
        Self {
            id: stamp.id,
            kind,
            user_id,
            at: stamp.at,
            origin: None,
            data: serde_json::Map::new(),
        }
    }

    /// The same event, from `origin`.
    pub fn from(mut self, origin: &Origin) -> Self {
        self.origin = Some(origin.clone());
        self
    }

    /// The same event with one more safe detail.
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.data.insert(key.to_owned(), value.into());
        self
    }
}

impl SecurityEvent {
    /// The contract's Event object (`id`, `type`, `userId`, `at`, `ip`, `userAgent`,
    /// `data`): what the API lists, the webhook posts and the export holds.
    pub fn to_document(&self) -> serde_json::Value {
        let at = super::rfc3339(self.at);
        serde_json::json!({
            "id": self.id,
            "type": self.kind.as_str(),
            "userId": self.user_id,
            "at": at,
            "ip": self.origin.as_ref().map(|o| o.ip.to_string()),
            "userAgent": self.origin.as_ref().and_then(|o| o.user_agent.clone()),
            "data": self.data,
        })
    }
}

/// Which events to list, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventQuery {
    /// Only this account's events.
    pub user_id: Option<Uuid>,
    pub kind: Option<EventKind>,
    /// Only events at or after this (Unix seconds).
    pub since: Option<i64>,
    /// The cursor: only events older than this one.
    pub before: Option<Uuid>,
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Stamp;

    #[test]
    fn every_kind_has_a_distinct_dotted_name() {
        let names: std::collections::HashSet<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), EventKind::ALL.len());
        assert!(names.iter().all(|n| n.contains('.') && *n == n.to_lowercase()));
    }

    #[test]
    fn kinds_parse_back_from_their_names() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::parse("login"), None);
    }

    #[test]
    fn the_document_has_the_contract_fields() {
        let origin = Origin {
            ip: "10.0.0.1".parse().unwrap(),
            user_agent: Some("curl".into()),
        };
        let user = Uuid::from_u128(7);
        let doc = SecurityEvent::new(EventKind::PasswordChanged, Some(user), Stamp { id: Uuid::nil(), at: 0 })
            .from(&origin)
            .with("by", "self")
            .to_document();
        assert_eq!(doc["type"], "password.changed");
        assert_eq!(doc["userId"], user.to_string());
        assert_eq!(doc["at"], "1970-01-01T00:00:00Z");
        assert_eq!(doc["ip"], "10.0.0.1");
        assert_eq!(doc["userAgent"], "curl");
        assert_eq!(doc["data"]["by"], "self");
    }

    #[test]
    fn details_and_origin_are_added_to_the_event() {
        let origin = Origin {
            ip: "127.0.0.1".parse().unwrap(),
            user_agent: Some("test".into()),
        };
        let event = SecurityEvent::new(
            EventKind::LoginFailed,
            None,
            Stamp {
                id: Uuid::nil(),
                at: 10,
            },
        )
        .from(&origin)
        .with("reason", "invalid_credentials");
        assert_eq!(event.origin, Some(origin));
        assert_eq!(event.data["reason"], "invalid_credentials");
    }
}
