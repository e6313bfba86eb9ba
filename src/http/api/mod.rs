//! The native JSON API of the contract (part 1, and the JSON routes of part 2 as they
//! come): one file per capability. Each handler parses, calls one service, and shapes the
//! answer; no rule lives here. [`documented_routes`] builds the router and the OpenAPI
//! document from the same list.

pub mod account;
pub mod audit;
pub mod clients;
pub mod health;
pub mod identities;
pub mod mfa;
pub mod openapi;
pub mod organizations;
pub mod password;
pub mod sessions;
pub mod tokens;
pub mod users;

use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::state::AppState;

/// The routes of the contract, each with its OpenAPI description; `GET /openapi.json`
/// serves the document they make.
pub fn documented_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(users::sign_up, users::update, users::list))
        .routes(routes!(users::me, account::delete_me))
        .routes(routes!(account::export))
        .routes(routes!(account::delete_user))
        .routes(routes!(account::verify))
        .routes(routes!(account::resend))
        .routes(routes!(sessions::list))
        .routes(routes!(sessions::end))
        .routes(routes!(identities::offered))
        .routes(routes!(identities::list))
        .routes(routes!(identities::disconnect))
        .routes(routes!(audit::own))
        .routes(routes!(audit::all))
        .routes(routes!(password::change))
        .routes(routes!(password::forget))
        .routes(routes!(password::recover))
        .routes(routes!(sessions::login))
        .routes(routes!(sessions::refresh_in_header))
        .routes(routes!(sessions::refresh_in_path))
        .routes(routes!(sessions::passkey_start))
        .routes(routes!(sessions::passkey_finish))
        .routes(routes!(sessions::confirm))
        .routes(routes!(sessions::logout))
        .routes(routes!(sessions::logout_all))
        .routes(routes!(mfa::enrol, mfa::list))
        .routes(routes!(mfa::validate))
        .routes(routes!(mfa::recovery))
        .routes(routes!(mfa::delete))
        .routes(routes!(mfa::choose))
        .routes(routes!(mfa::code))
        .routes(routes!(
            organizations::create,
            organizations::update,
            organizations::mine
        ))
        .routes(routes!(organizations::add_member, organizations::update_alias))
        .routes(routes!(organizations::details))
        .routes(routes!(organizations::remove_member))
        .routes(routes!(clients::create, clients::list))
        .routes(routes!(clients::delete))
        .routes(routes!(tokens::introspect))
        .routes(routes!(tokens::jwks))
        .routes(routes!(health::live))
        .routes(routes!(health::ready))
        .routes(routes!(health::openapi_document))
        .routes(routes!(health::metrics))
}
