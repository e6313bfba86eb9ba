//! Upstream providers and the caller's connected accounts (API.md part 3): which
//! providers are offered, which identities are linked, and disconnecting one.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::openapi::ProblemBody;
use crate::domain::rfc3339;
use crate::domain::upstream::Identity;
use crate::http::extract::{Caller, ClientOrigin, Path};
use crate::http::problem::Problem;
use crate::usecases::connected_accounts::ConnectedAccounts;
use crate::usecases::upstream_sign_in::UpstreamSignIn;

/// A provider offered for "Continue with ...".
#[derive(Serialize, ToSchema)]
pub struct UpstreamBody {
    id: String,
    /// Shown as "Continue with <name>".
    name: String,
    /// `oidc`, `google`, `microsoft`, `apple`, `gitlab` or `github`.
    kind: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct UpstreamListBody {
    list: Vec<UpstreamBody>,
}

/// The upstream providers offered; never a secret.
#[utoipa::path(get, path = "/upstreams", tag = "upstream",
    responses((status = 200, body = UpstreamListBody)))]
pub async fn offered(State(upstream): State<Arc<UpstreamSignIn>>) -> JsonResponse<UpstreamListBody> {
    let list = upstream
        .offered()
        .iter()
        .map(|provider| UpstreamBody {
            id: provider.id.as_str().to_owned(),
            name: provider.name.clone(),
            kind: provider.kind.as_str(),
        })
        .collect();
    JsonResponse(UpstreamListBody { list })
}

/// An account at an upstream provider, connected to the caller's.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentityBody {
    id: Uuid,
    /// The provider's id.
    provider: String,
    /// The provider's id of the person (`sub`; GitHub's numeric id).
    subject: String,
    /// The address the provider gave when the account was connected.
    email: Option<String>,
    created_at: Option<String>,
    last_used_at: Option<String>,
}

impl From<Identity> for IdentityBody {
    fn from(identity: Identity) -> Self {
        Self {
            id: identity.id,
            provider: identity.provider.as_str().to_owned(),
            subject: identity.subject,
            email: identity.email,
            created_at: rfc3339(identity.created_at),
            last_used_at: identity.last_used_at.and_then(rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct IdentityListBody {
    list: Vec<IdentityBody>,
}

/// The caller's connected accounts, oldest first.
#[utoipa::path(get, path = "/user/identities", tag = "upstream", security(("bearer" = [])),
    responses((status = 200, body = IdentityListBody), (status = 401, body = ProblemBody)))]
pub async fn list(
    State(connected): State<Arc<ConnectedAccounts>>,
    Caller(caller): Caller,
) -> Result<JsonResponse<IdentityListBody>, Problem> {
    let list = connected
        .list(&caller)
        .await?
        .into_iter()
        .map(IdentityBody::from)
        .collect();
    Ok(JsonResponse(IdentityListBody { list }))
}

/// Disconnects one of the caller's connected accounts (recent authentication needed).
#[utoipa::path(delete, path = "/user/identities/{id}", tag = "upstream", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "disconnected; identity.unlinked recorded"),
        (status = 400, body = ProblemBody), (status = 401, body = ProblemBody),
        (status = 403, body = ProblemBody, description = "reauthentication_required"),
        (status = 404, body = ProblemBody),
        (status = 409, body = ProblemBody, description = "last_credential: no password, passkey or other identity would be left"),
    ))]
pub async fn disconnect(
    State(connected): State<Arc<ConnectedAccounts>>,
    Caller(caller): Caller,
    ClientOrigin(origin): ClientOrigin,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, Problem> {
    connected.disconnect(&caller, id, &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}
