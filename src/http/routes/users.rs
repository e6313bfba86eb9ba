//! `/user` routes: sign-up, profile, listing.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::http::extract::{Caller, Json, MaybeCaller, Query};
use crate::http::problem::Problem;
use crate::http::routes::organizations;
use crate::usecases::accounts::{ProfileChange, SignUp};
use crate::usecases::Core;

#[derive(Deserialize)]
pub struct SignUpBody {
    name: String,
    email: String,
    password: String,
    phone: Option<String>,
}

pub async fn sign_up(
    State(core): State<Arc<Core>>,
    MaybeCaller(caller): MaybeCaller,
    Json(body): Json<SignUpBody>,
) -> Result<(StatusCode, JsonResponse<Value>), Problem> {
    let request = SignUp {
        name: body.name,
        email: body.email,
        password: body.password,
        phone: body.phone,
    };
    let id = core.sign_up(caller.as_ref(), request).await?;
    Ok((StatusCode::CREATED, JsonResponse(json!({ "id": id }))))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateBody {
    user_id: Option<Uuid>,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

pub async fn update(
    State(core): State<Arc<Core>>,
    Caller(caller): Caller,
    Json(body): Json<UpdateBody>,
) -> Result<JsonResponse<Value>, Problem> {
    let change = ProfileChange {
        user_id: body.user_id,
        name: body.name,
        email: body.email,
        phone: body.phone,
    };
    core.update_profile(&caller, change).await?;
    Ok(JsonResponse(json!({ "result": true })))
}

pub async fn me(State(core): State<Arc<Core>>, Caller(caller): Caller) -> Result<JsonResponse<Value>, Problem> {
    let (user, organizations) = tokio::try_join!(core.me(&caller), core.my_organizations(&caller))?;
    let organizations: Vec<Value> = organizations
        .iter()
        .map(|(organization, role)| organizations::listed(organization, *role))
        .collect();
    Ok(JsonResponse(json!({
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "phone": user.phone,
        "createdAt": user.created_at.format(&Rfc3339).unwrap_or_default(),
        "organizations": organizations,
        "mfa": [],
    })))
}

#[derive(Deserialize)]
pub struct ListQuery {
    limit: Option<u32>,
    cursor: Option<Uuid>,
}

#[derive(Serialize)]
struct ListedUser {
    id: Uuid,
    name: String,
    email: String,
}

pub async fn list(
    State(core): State<Arc<Core>>,
    Caller(caller): Caller,
    Query(query): Query<ListQuery>,
) -> Result<JsonResponse<Value>, Problem> {
    let page = core.list_users(&caller, query.limit, query.cursor).await?;
    let list: Vec<ListedUser> = page
        .users
        .into_iter()
        .map(|u| ListedUser {
            id: u.id,
            name: u.name,
            email: u.email,
        })
        .collect();
    Ok(JsonResponse(json!({ "list": list, "nextCursor": page.next_cursor })))
}
