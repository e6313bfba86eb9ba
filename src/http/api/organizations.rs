//! `/organization` routes.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::openapi::{CreatedBody, ProblemBody, ResultBody};
use crate::domain::organization::{Organization, Role};
use crate::http::extract::{Caller, ClientOrigin, Json, Path};
use crate::http::problem::Problem;
use crate::usecases::organizations::{OrganizationChange, Organizations};

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateBody {
    name: String,
    /// An organization the caller owns or administers.
    parent_id: Option<Uuid>,
}

/// Creates an organization; the caller becomes its owner.
#[utoipa::path(post, path = "/organization", tag = "organizations", request_body = CreateBody,
    security(("bearer" = [])),
    responses(
        (status = 201, body = CreatedBody),
        (status = 400, body = ProblemBody), (status = 401, body = ProblemBody),
        (status = 403, body = ProblemBody), (status = 404, body = ProblemBody, description = "unknown parent"),
    ))]
pub async fn create(
    State(organizations): State<Arc<Organizations>>,
    Caller(caller): Caller,
    Json(body): Json<CreateBody>,
) -> Result<(StatusCode, JsonResponse<CreatedBody>), Problem> {
    let id = organizations
        .create_organization(&caller, &body.name, body.parent_id)
        .await?;
    Ok((StatusCode::CREATED, JsonResponse(CreatedBody { id })))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddMemberBody {
    organization_id: Uuid,
    user_id: Uuid,
    /// `member` (default) or `admin`.
    role: Option<String>,
}

/// The new membership's id.
#[derive(Serialize, ToSchema)]
pub struct MembershipCreatedBody {
    result: Uuid,
}

/// Adds a user to an organization (owners and admins).
#[utoipa::path(post, path = "/organization/add", tag = "organizations", request_body = AddMemberBody,
    security(("bearer" = [])),
    responses(
        (status = 200, body = MembershipCreatedBody),
        (status = 400, body = ProblemBody), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody),
        (status = 404, body = ProblemBody, description = "unknown organization or user"),
        (status = 409, body = ProblemBody, description = "already_member"),
    ))]
pub async fn add_member(
    State(organizations): State<Arc<Organizations>>,
    Caller(caller): Caller,
    ClientOrigin(origin): ClientOrigin,
    Json(body): Json<AddMemberBody>,
) -> Result<JsonResponse<MembershipCreatedBody>, Problem> {
    let result = organizations
        .add_member(
            &caller,
            body.organization_id,
            body.user_id,
            body.role.as_deref(),
            &origin,
        )
        .await?;
    Ok(JsonResponse(MembershipCreatedBody { result }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateBody {
    organization_id: Uuid,
    name: Option<String>,
    /// Absent: keep; `null`: make it a root; an id: move under it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    parent_id: Option<Option<Uuid>>,
}

/// Tells a field sent as `null` (`Some(None)`) from one not sent (`None`).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<Uuid>>, D::Error> {
    Option::<Uuid>::deserialize(deserializer).map(Some)
}

/// Renames and/or moves an organization (owners and admins); never into a cycle.
#[utoipa::path(patch, path = "/organization", tag = "organizations", request_body = UpdateBody,
    security(("bearer" = [])),
    responses(
        (status = 200, body = ResultBody),
        (status = 400, body = ProblemBody), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody),
        (status = 404, body = ProblemBody),
        (status = 409, body = ProblemBody, description = "cyclic_relationship"),
    ))]
pub async fn update(
    State(organizations): State<Arc<Organizations>>,
    caller: Caller,
    body: Json<UpdateBody>,
) -> Result<JsonResponse<ResultBody>, Problem> {
    apply_update(&organizations, caller, body).await
}

/// The same as `PATCH /organization`, kept for clients of the original service.
#[utoipa::path(patch, path = "/organization/add", tag = "organizations", request_body = UpdateBody,
    security(("bearer" = [])),
    responses(
        (status = 200, body = ResultBody),
        (status = 400, body = ProblemBody), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody),
        (status = 404, body = ProblemBody),
        (status = 409, body = ProblemBody, description = "cyclic_relationship"),
    ))]
pub async fn update_alias(
    State(organizations): State<Arc<Organizations>>,
    caller: Caller,
    body: Json<UpdateBody>,
) -> Result<JsonResponse<ResultBody>, Problem> {
    apply_update(&organizations, caller, body).await
}

async fn apply_update(
    organizations: &Organizations,
    Caller(caller): Caller,
    Json(body): Json<UpdateBody>,
) -> Result<JsonResponse<ResultBody>, Problem> {
    let change = OrganizationChange {
        name: body.name,
        parent: body.parent_id,
    };
    organizations
        .update_organization(&caller, body.organization_id, change)
        .await?;
    Ok(JsonResponse(ResultBody { result: true }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberBody {
    user_id: Uuid,
    /// `owner`, `admin` or `member`.
    role: &'static str,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationBody {
    id: Uuid,
    name: String,
    parent_id: Option<Uuid>,
    members: Vec<MemberBody>,
}

/// An organization and its members (members and system administrators only).
#[utoipa::path(get, path = "/organization/{id}", tag = "organizations", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = OrganizationBody),
        (status = 400, body = ProblemBody), (status = 401, body = ProblemBody),
        (status = 403, body = ProblemBody), (status = 404, body = ProblemBody),
    ))]
pub async fn details(
    State(organizations): State<Arc<Organizations>>,
    Caller(caller): Caller,
    Path(id): Path<Uuid>,
) -> Result<JsonResponse<OrganizationBody>, Problem> {
    let details = organizations.organization_details(&caller, id).await?;
    Ok(JsonResponse(OrganizationBody {
        id: details.organization.id,
        name: details.organization.name,
        parent_id: details.organization.parent_id,
        members: details
            .members
            .iter()
            .map(|m| MemberBody {
                user_id: m.user_id,
                role: m.role.as_str(),
            })
            .collect(),
    }))
}

/// Removes a member (owners and admins; owners only by owners; never the last owner).
#[utoipa::path(delete, path = "/organization/{id}/member/{user_id}", tag = "organizations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses(
        (status = 204, description = "removed"),
        (status = 400, body = ProblemBody), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody),
        (status = 404, body = ProblemBody), (status = 409, body = ProblemBody, description = "last_owner"),
    ))]
pub async fn remove_member(
    State(organizations): State<Arc<Organizations>>,
    Caller(caller): Caller,
    ClientOrigin(origin): ClientOrigin,
    Path((organization_id, user_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, Problem> {
    organizations
        .remove_member(&caller, organization_id, user_id, &origin)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One of the caller's organizations, with the caller's role in it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListedOrganization {
    id: Uuid,
    name: String,
    parent_id: Option<Uuid>,
    role: &'static str,
}

impl ListedOrganization {
    pub fn new(organization: &Organization, role: Role) -> Self {
        Self {
            id: organization.id,
            name: organization.name.clone(),
            parent_id: organization.parent_id,
            role: role.as_str(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OrganizationListBody {
    list: Vec<ListedOrganization>,
}

/// The caller's organizations.
#[utoipa::path(get, path = "/organization", tag = "organizations", security(("bearer" = [])),
    responses((status = 200, body = OrganizationListBody), (status = 401, body = ProblemBody)))]
pub async fn mine(
    State(organizations): State<Arc<Organizations>>,
    Caller(caller): Caller,
) -> Result<JsonResponse<OrganizationListBody>, Problem> {
    let mine = organizations.my_organizations(&caller).await?;
    Ok(JsonResponse(OrganizationListBody {
        list: mine.iter().map(|(o, role)| ListedOrganization::new(o, *role)).collect(),
    }))
}
