//! `/organization` routes.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::domain::organization::{Organization, Role};
use crate::http::extract::{Caller, Json, Path};
use crate::http::problem::Problem;
use crate::usecases::organizations::OrganizationChange;
use crate::usecases::Core;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBody {
    name: String,
    parent_id: Option<Uuid>,
}

pub async fn create(
    State(core): State<Arc<Core>>,
    Caller(caller): Caller,
    Json(body): Json<CreateBody>,
) -> Result<(StatusCode, JsonResponse<Value>), Problem> {
    let id = core.create_organization(&caller, &body.name, body.parent_id).await?;
    Ok((StatusCode::CREATED, JsonResponse(json!({ "id": id }))))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddMemberBody {
    organization_id: Uuid,
    user_id: Uuid,
    role: Option<String>,
}

pub async fn add_member(
    State(core): State<Arc<Core>>,
    Caller(caller): Caller,
    Json(body): Json<AddMemberBody>,
) -> Result<JsonResponse<Value>, Problem> {
    let membership = core
        .add_member(&caller, body.organization_id, body.user_id, body.role.as_deref())
        .await?;
    Ok(JsonResponse(json!({ "result": membership })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateBody {
    organization_id: Uuid,
    name: Option<String>,
    /// Absent: keep; `null`: make it a root; an id: move under it.
    #[serde(default, deserialize_with = "present")]
    parent_id: Option<Option<Uuid>>,
}

/// Tells a field sent as `null` (`Some(None)`) from one not sent (`None`).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<Uuid>>, D::Error> {
    Option::<Uuid>::deserialize(deserializer).map(Some)
}

pub async fn update(
    State(core): State<Arc<Core>>,
    Caller(caller): Caller,
    Json(body): Json<UpdateBody>,
) -> Result<JsonResponse<Value>, Problem> {
    let change = OrganizationChange {
        name: body.name,
        parent: body.parent_id,
    };
    core.update_organization(&caller, body.organization_id, change).await?;
    Ok(JsonResponse(json!({ "result": true })))
}

pub async fn details(
    State(core): State<Arc<Core>>,
    Caller(caller): Caller,
    Path(id): Path<Uuid>,
) -> Result<JsonResponse<Value>, Problem> {
    let details = core.organization_details(&caller, id).await?;
    let members: Vec<Value> = details
        .members
        .iter()
        .map(|m| json!({ "userId": m.user_id, "role": m.role.as_str() }))
        .collect();
    Ok(JsonResponse(json!({
        "id": details.organization.id,
        "name": details.organization.name,
        "parentId": details.organization.parent_id,
        "members": members,
    })))
}

pub async fn remove_member(
    State(core): State<Arc<Core>>,
    Caller(caller): Caller,
    Path((organization_id, user_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, Problem> {
    core.remove_member(&caller, organization_id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn mine(State(core): State<Arc<Core>>, Caller(caller): Caller) -> Result<JsonResponse<Value>, Problem> {
    let list: Vec<Value> = core
        .my_organizations(&caller)
        .await?
        .iter()
        .map(|(organization, role)| listed(organization, *role))
        .collect();
    Ok(JsonResponse(json!({ "list": list })))
}

/// One organization in a list of the caller's organizations.
pub fn listed(organization: &Organization, role: Role) -> Value {
    json!({
        "id": organization.id,
        "name": organization.name,
        "parentId": organization.parent_id,
        "role": role.as_str(),
    })
}
