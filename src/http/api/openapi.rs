//! The OpenAPI 3.1 document, generated from the handlers' annotations. The router itself is
//! built from the same annotated handlers (`utoipa_axum::routes!`), so a served route cannot
//! be missing from the document, nor a documented one go unserved.

use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// An RFC 9457 problem, as every error is answered.
#[derive(Serialize, ToSchema)]
pub struct ProblemBody {
    /// Always `about:blank`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable, machine-readable reason, e.g. `invalid_credentials`.
    pub code: String,
}

/// `{"result": true}`.
#[derive(Serialize, ToSchema)]
pub struct ResultBody {
    pub result: bool,
}

/// `{"id": "<uuid>"}` of something just created.
#[derive(Serialize, ToSchema)]
pub struct CreatedBody {
    pub id: uuid::Uuid,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "authd", description = "A small, fast, self-hostable authentication server"),
    modifiers(&BearerAuth),
    components(schemas(ProblemBody)),
    tags(
        (name = "users", description = "Accounts"),
        (name = "account", description = "Verification, sessions, security events, deletion and export"),
        (name = "sessions", description = "Login, refresh, logout"),
        (name = "tokens", description = "Introspection and public keys"),
        (name = "mfa", description = "Second factors and the MFA login steps"),
        (name = "organizations", description = "Organizations and memberships"),
        (name = "password", description = "Password reset and change"),
        (name = "clients", description = "OpenID Connect clients (admins)"),
        (name = "upstream", description = "Upstream identity providers and connected accounts"),
        (name = "operations", description = "Health and documentation"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme the protected routes refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
