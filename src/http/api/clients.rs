//! OpenID Connect clients, for administrators: register, list, remove.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::openapi::ProblemBody;
use crate::domain::oauth::{Client, ClientRequest};
use crate::http::extract::{Caller, Json, Path};
use crate::http::problem::Problem;
use crate::usecases::clients::OAuthClients;

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewClientBody {
    name: String,
    /// Exact URIs the client may be redirected to: https, http on loopback, or an app's
    /// reverse-domain scheme.
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    public: bool,
    #[serde(default)]
    first_party: bool,
    /// Default: every scope but `authd:api` (first-party clients only: their tokens may
    /// call the native API).
    scopes: Option<Vec<String>>,
    /// Default: `authorization_code` and `refresh_token`.
    grants: Option<Vec<String>>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    /// `RS256` (the default) or `EdDSA`.
    id_token_signed_response_alg: Option<String>,
    /// For an API (RFC 8707): the URI applications name in `resource=`; tokens for it carry
    /// it as `aud`, and its credentials introspect them. Default grants: none.
    resource: Option<String>,
}

/// The new client; `clientSecret` is shown only now (none for a public client).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredBody {
    client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
}

/// Registers a client (admins only).
#[utoipa::path(post, path = "/clients", tag = "clients", security(("bearer" = [])), request_body = NewClientBody,
    responses(
        (status = 201, body = RegisteredBody),
        (status = 400, body = ProblemBody), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody),
    ))]
pub async fn create(
    State(clients): State<Arc<OAuthClients>>,
    Caller(caller): Caller,
    Json(body): Json<NewClientBody>,
) -> Result<(StatusCode, JsonResponse<RegisteredBody>), Problem> {
    let request = ClientRequest {
        name: body.name,
        redirect_uris: body.redirect_uris,
        post_logout_redirect_uris: body.post_logout_redirect_uris,
        public: body.public,
        first_party: body.first_party,
        scopes: body.scopes,
        grants: body.grants,
        id_token_alg: body.id_token_signed_response_alg,
        resource: body.resource,
    };
    let registered = clients.register_as_admin(&caller, request).await?;
    let answer = RegisteredBody {
        client_id: registered.client.id,
        client_secret: registered.secret.map(|s| s.expose_secret().to_owned()),
    };
    Ok((StatusCode::CREATED, JsonResponse(answer)))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientBody {
    client_id: String,
    name: String,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    public: bool,
    first_party: bool,
    scopes: Vec<String>,
    grants: Vec<&'static str>,
    id_token_signed_response_alg: &'static str,
    /// RFC 3339.
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<String>,
}

impl From<Client> for ClientBody {
    fn from(client: Client) -> Self {
        Self {
            grants: client.grants.iter().map(|g| g.as_str()).collect(),
            id_token_signed_response_alg: client.id_token_alg.as_str(),
            created_at: crate::domain::rfc3339(client.created_at).unwrap_or_default(),
            client_id: client.id,
            name: client.name,
            redirect_uris: client.redirect_uris,
            post_logout_redirect_uris: client.post_logout_redirect_uris,
            public: client.public,
            first_party: client.first_party,
            scopes: client.scopes,
            resource: client.resource,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ClientListBody {
    /// Oldest first.
    list: Vec<ClientBody>,
}

/// Every client (admins only); no secrets.
#[utoipa::path(get, path = "/clients", tag = "clients", security(("bearer" = [])),
    responses(
        (status = 200, body = ClientListBody),
        (status = 401, body = ProblemBody), (status = 403, body = ProblemBody),
    ))]
pub async fn list(
    State(clients): State<Arc<OAuthClients>>,
    Caller(caller): Caller,
) -> Result<JsonResponse<ClientListBody>, Problem> {
    let list = clients.list_as_admin(&caller).await?;
    Ok(JsonResponse(ClientListBody {
        list: list.into_iter().map(ClientBody::from).collect(),
    }))
}

/// Removes a client (admins only).
#[utoipa::path(delete, path = "/clients/{clientId}", tag = "clients", security(("bearer" = [])),
    params(("clientId" = String, Path)),
    responses(
        (status = 204, description = "removed"),
        (status = 401, body = ProblemBody), (status = 403, body = ProblemBody), (status = 404, body = ProblemBody),
    ))]
pub async fn delete(
    State(clients): State<Arc<OAuthClients>>,
    Caller(caller): Caller,
    Path(client_id): Path<String>,
) -> Result<StatusCode, Problem> {
    clients.delete_as_admin(&caller, &client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
