//! The hosted pages: server-rendered HTML for people in a browser (sign-up, sign-in with a
//! password or a passkey, the second factor, a forgotten password, the pages e-mailed
//! links open, the account page, sign-out). They call the same capability services as the
//! JSON API, so no rule is written twice; what is theirs is the browser session (a cookie
//! holding the session's token, see `browser.rs`), the anti-forgery check on every form,
//! and the headers that keep the pages from being framed, leaking the URL or running
//! anything but the server's own script.
//!
//! | file | pages |
//! |---|---|
//! | `sign_in.rs` | `/ui/signup`, `/ui/login`, `/ui/mfa`, `/ui/logout` |
//! | `recovery.rs` | `/ui/forgot`, `/password/recover`, `/user/verify` |
//! | `account.rs` | `/ui/account` and its forms |
//! | `factors.rs` | enrolling and removing factors, recovery codes |
//! | `upstream.rs` | `/login/upstream/{id}` and its callback ("Continue with ...") |
//! | `assets.rs` | `/ui/assets/*` |

pub mod account;
pub mod assets;
pub mod browser;
pub mod factors;
pub mod messages;
pub mod onward;
pub mod recovery;
pub mod return_to;
pub mod settings;
pub mod sign_in;
pub mod upstream;

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use super::state::AppState;

/// Scripts, styles and images from this server only; no inline script or style; never
/// framed. No `form-action`: browsers apply it to the redirects after a form too, and the
/// sign-in form of an OpenID Connect flow ends at the application's redirect URI (forms
/// are guarded by their Origin and token instead).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Every page and its form targets, with the pages' security headers.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui", get(|| async { Redirect::to(return_to::HOME) }))
        .route("/ui/signup", get(sign_in::signup_page).post(sign_in::sign_up))
        .route("/ui/login", get(sign_in::login_page).post(sign_in::login))
        .route("/ui/login/passkey", post(sign_in::login_with_passkey))
        .route("/ui/mfa", get(sign_in::mfa_page))
        .route("/ui/mfa/choose", post(sign_in::choose))
        .route("/ui/mfa/answer", post(sign_in::answer))
        .route("/ui/logout", get(sign_in::logout_page).post(sign_in::logout))
        .route("/ui/forgot", get(recovery::forgot_page).post(recovery::forgot))
        .route("/password/recover", get(recovery::recover_page))
        .route("/ui/recover", post(recovery::recover))
        .route("/user/verify", get(recovery::verify_page))
        .route("/ui/account", get(account::page))
        .route("/ui/account/profile", post(account::save_profile))
        .route("/ui/account/password", post(account::change_password))
        .route("/ui/account/confirm", post(account::confirm))
        .route("/ui/account/verification", post(account::resend_verification))
        .route("/ui/account/delete", post(account::delete_account))
        .route("/ui/account/sessions/{id}/end", post(account::end_session))
        .route(
            "/ui/account/consents/{client_id}/withdraw",
            post(account::withdraw_consent),
        )
        .route("/ui/account/factors", post(factors::enrol))
        .route("/ui/account/factors/confirm", post(factors::confirm))
        .route("/ui/account/factors/{id}/remove", post(factors::remove))
        .route("/ui/account/recovery-codes", post(factors::new_recovery_codes))
        .route("/login/upstream/{id}", get(upstream::depart))
        .route(
            "/login/upstream/{id}/callback",
            get(upstream::arrive).post(upstream::arrive_by_post),
        )
        .route("/ui/account/identities/{id}/remove", post(upstream::disconnect))
        .route("/ui/assets/style.css", get(assets::style))
        .route("/ui/assets/passkey.js", get(assets::passkey_script))
        .route("/ui/assets/logo", get(assets::logo))
        .layer(middleware::from_fn(security_headers))
}

/// The headers every page answer carries.
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// The answer to an unknown path under `/ui/`: a page, not a problem document.
pub fn not_found() -> Response {
    let body = "<!doctype html><title>Not found</title><p>There is no such page. \
                <a href=\"/ui/account\">Go to your account</a>.</p>";
    let mut response = axum::response::IntoResponse::into_response((StatusCode::NOT_FOUND, axum::response::Html(body)));
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    response
}
