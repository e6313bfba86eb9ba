//! The audit log: the caller's own security events, and everyone's for administrators.

use std::sync::Arc;

use axum::extract::State;
use axum::Json as JsonResponse;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::openapi::ProblemBody;
use crate::http::extract::{Caller, Query};
use crate::http::problem::Problem;
use crate::usecases::audit::{Audit, EventFilter, EventPage};

/// A security event (the contract's Event object).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventBody {
    id: Uuid,
    /// e.g. `login.succeeded`.
    #[serde(rename = "type")]
    kind: String,
    user_id: Option<Uuid>,
    /// RFC 3339.
    at: String,
    ip: Option<String>,
    user_agent: Option<String>,
    /// Safe details; never a password, code, hash, token or seed.
    data: Object,
}

/// A JSON object, for the schema.
#[derive(Serialize, ToSchema)]
#[schema(value_type = Object)]
struct Object(serde_json::Map<String, serde_json::Value>);

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventListBody {
    /// Newest first.
    #[schema(value_type = Vec<EventBody>)]
    list: Vec<serde_json::Value>,
    next_cursor: Option<Uuid>,
}

impl From<EventPage> for EventListBody {
    fn from(page: EventPage) -> Self {
        Self {
            list: page.events.iter().map(|event| event.to_document()).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct PageQuery {
    /// 1 to 100, default 50.
    limit: Option<u32>,
    /// `nextCursor` of the previous page.
    cursor: Option<Uuid>,
}

/// The caller's own security events, newest first.
#[utoipa::path(get, path = "/user/events", tag = "account", params(PageQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = EventListBody),
        (status = 400, body = ProblemBody), (status = 401, body = ProblemBody),
    ))]
pub async fn own(
    State(audit): State<Arc<Audit>>,
    Caller(caller): Caller,
    Query(query): Query<PageQuery>,
) -> Result<JsonResponse<EventListBody>, Problem> {
    let page = audit.own_events(&caller, query.limit, query.cursor).await?;
    Ok(JsonResponse(page.into()))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct EventsQuery {
    /// Only this account's events.
    user_id: Option<Uuid>,
    /// Only events of this type, e.g. `login.failed`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    /// Only events at or after this RFC 3339 time.
    since: Option<String>,
    /// 1 to 100, default 50.
    limit: Option<u32>,
    /// `nextCursor` of the previous page.
    cursor: Option<Uuid>,
}

/// Every account's security events, newest first (admins only).
#[utoipa::path(get, path = "/events", tag = "account", params(EventsQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = EventListBody),
        (status = 400, body = ProblemBody), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody),
    ))]
pub async fn all(
    State(audit): State<Arc<Audit>>,
    Caller(caller): Caller,
    Query(query): Query<EventsQuery>,
) -> Result<JsonResponse<EventListBody>, Problem> {
    let since = query
        .since
        .as_deref()
        .map(|text| {
            OffsetDateTime::parse(text, &Rfc3339)
                .map(OffsetDateTime::unix_timestamp)
                .map_err(|_| crate::domain::AuthError::invalid("since", "is not an RFC 3339 time"))
        })
        .transpose()?;
    let filter = EventFilter {
        user_id: query.user_id,
        kind: query.kind,
        since,
    };
    let page = audit.all_events(&caller, filter, query.limit, query.cursor).await?;
    Ok(JsonResponse(page.into()))
}
