//! The pages' static files, compiled into the binary: the one stylesheet (with the brand's
//! colour), the one script (WebAuthn), and the operator's logo.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::settings::PageSettings;

const PASSKEY_SCRIPT: &str = include_str!("../../../assets/ui/passkey.js");

/// Static files may be cached for an hour; they change only with the binary.
const CACHE: &str = "public, max-age=3600";

pub async fn style(State(pages): State<Arc<PageSettings>>) -> Response {
    let headers = [
        (header::CONTENT_TYPE, "text/css; charset=utf-8"),
        (header::CACHE_CONTROL, CACHE),
    ];
    (headers, pages.stylesheet().to_owned()).into_response()
}

pub async fn passkey_script() -> Response {
    let headers = [
        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
        (header::CACHE_CONTROL, CACHE),
    ];
    (headers, PASSKEY_SCRIPT).into_response()
}

pub async fn logo(State(pages): State<Arc<PageSettings>>) -> Response {
    match &pages.brand.logo {
        Some(logo) => {
            let headers = [
                (header::CONTENT_TYPE, logo.content_type),
                (header::CACHE_CONTROL, CACHE),
            ];
            (headers, logo.bytes.clone()).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
