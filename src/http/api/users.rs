//! `/user` routes: sign-up, profile, listing.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::mfa::FactorBody;
use super::openapi::{CreatedBody, ProblemBody, ResultBody};
use super::organizations::ListedOrganization;
use crate::domain::profile::Profile;
use crate::http::extract::{Caller, ClientOrigin, Json, MaybeCaller, Query};
use crate::http::problem::Problem;
use crate::usecases::accounts::{Accounts, ProfileChange, SignUp};

#[derive(Deserialize, ToSchema)]
pub struct SignUpBody {
    name: String,
    email: String,
    #[schema(value_type = String)]
    password: SecretString,
    /// E.164, e.g. `+5511999998888`.
    phone: Option<String>,
}

/// Creates an account (with admin-only sign-up, an admin's token is needed).
#[utoipa::path(post, path = "/user", tag = "users", request_body = SignUpBody,
    security((), ("bearer" = [])),
    responses(
        (status = 201, body = CreatedBody),
        (status = 400, body = ProblemBody, description = "validation_failed, weak_password, breached_password"),
        (status = 401, body = ProblemBody), (status = 403, body = ProblemBody),
        (status = 409, body = ProblemBody, description = "email_taken"),
        (status = 429, body = ProblemBody, description = "rate_limited, with Retry-After"),
    ))]
pub async fn sign_up(
    State(accounts): State<Arc<Accounts>>,
    MaybeCaller(caller): MaybeCaller,
    ClientOrigin(origin): ClientOrigin,
    Json(body): Json<SignUpBody>,
) -> Result<(StatusCode, JsonResponse<CreatedBody>), Problem> {
    let request = SignUp {
        name: body.name,
        email: body.email,
        password: body.password,
        phone: body.phone,
    };
    let id = accounts.sign_up(caller.as_ref(), request, &origin).await?;
    Ok((StatusCode::CREATED, JsonResponse(CreatedBody { id })))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateBody {
    /// Another account to change (admins only).
    user_id: Option<Uuid>,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

/// Changes name, email or phone of the caller (or, for admins, of `userId`).
#[utoipa::path(patch, path = "/user", tag = "users", request_body = UpdateBody, security(("bearer" = [])),
    responses(
        (status = 200, body = ResultBody),
        (status = 400, body = ProblemBody), (status = 401, body = ProblemBody),
        (status = 403, body = ProblemBody, description = "forbidden; reauthentication_required to change the e-mail without a recent sign-in (POST /login/confirm)"),
        (status = 404, body = ProblemBody),
        (status = 409, body = ProblemBody, description = "email_taken"),
    ))]
pub async fn update(
    State(accounts): State<Arc<Accounts>>,
    Caller(caller): Caller,
    ClientOrigin(origin): ClientOrigin,
    Json(body): Json<UpdateBody>,
) -> Result<JsonResponse<ResultBody>, Problem> {
    let change = ProfileChange {
        user_id: body.user_id,
        name: body.name,
        email: body.email,
        phone: body.phone,
    };
    accounts.update_profile(&caller, change, &origin).await?;
    Ok(JsonResponse(ResultBody { result: true }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileBody {
    id: Uuid,
    name: String,
    email: String,
    email_verified: bool,
    phone: Option<String>,
    /// RFC 3339.
    created_at: String,
    organizations: Vec<ListedOrganization>,
    /// The caller's MFA factors.
    mfa: Vec<FactorBody>,
}

/// The caller's own account.
#[utoipa::path(get, path = "/user/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = ProfileBody), (status = 401, body = ProblemBody)))]
pub async fn me(
    State(accounts): State<Arc<Accounts>>,
    Caller(caller): Caller,
) -> Result<JsonResponse<ProfileBody>, Problem> {
    let Profile {
        user,
        organizations,
        factors,
    } = accounts.profile(&caller).await?;
    Ok(JsonResponse(ProfileBody {
        id: user.id,
        name: user.name,
        email: user.email.as_str().to_owned(),
        email_verified: user.email_verified,
        phone: user.phone,
        created_at: user.created_at.format(&Rfc3339).unwrap_or_default(),
        organizations: organizations
            .iter()
            .map(|(o, role)| ListedOrganization::new(o, *role))
            .collect(),
        mfa: factors.iter().map(FactorBody::from).collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// 1 to 100, default 50.
    limit: Option<u32>,
    /// `nextCursor` of the previous page.
    cursor: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct ListedUser {
    id: Uuid,
    name: String,
    email: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserListBody {
    list: Vec<ListedUser>,
    next_cursor: Option<Uuid>,
}

/// Lists accounts, oldest first (admins only).
#[utoipa::path(get, path = "/user", tag = "users", params(ListQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = UserListBody),
        (status = 400, body = ProblemBody), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody),
    ))]
pub async fn list(
    State(accounts): State<Arc<Accounts>>,
    Caller(caller): Caller,
    Query(query): Query<ListQuery>,
) -> Result<JsonResponse<UserListBody>, Problem> {
    let page = accounts.list_users(&caller, query.limit, query.cursor).await?;
    let list = page
        .users
        .into_iter()
        .map(|u| ListedUser {
            id: u.id,
            name: u.name,
            email: u.email.as_str().to_owned(),
        })
        .collect();
    Ok(JsonResponse(UserListBody {
        list,
        next_cursor: page.next_cursor,
    }))
}
