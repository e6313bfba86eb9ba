//! The browser's side of the hosted pages: its cookies and the two extractors every page
//! uses. [`Browser`] reads the session cookie (renewing the token inside it once it is past
//! half its life), hands out the anti-forgery token for forms, and answers with pages or
//! redirects that carry the cookies it changed. [`Submitted`] accepts a form only from
//! this server's own pages: its `Origin` must be one of ours and its token must belong to
//! the browser's nonce.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use minijinja::{context, Value};
use secrecy::{ExposeSecret as _, SecretString};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::messages::Message;
use super::settings::PageSettings;
use crate::domain::credential::Credential;
use crate::domain::events::Origin;
use crate::domain::token::Claims;
use crate::http::extract::ClientOrigin;
use crate::http::state::ClientAddressing;
use crate::usecases::forms::FormTokens;
use crate::usecases::sessions::Sessions;
use crate::usecases::tokens::Tokens;

/// The session cookie: the session's current token.
const SESSION: &str = "authd_session";
/// The browser's anti-forgery nonce.
const NONCE: &str = "authd_nonce";

/// A browser on one of the pages, with the cookies it sent and those to set.
pub struct Browser {
    pub pages: Arc<PageSettings>,
    jar: CookieJar,
    form_token: String,
    /// The signed-in session, when the session cookie holds a live token.
    pub session: Option<Claims>,
    /// Where the request came from (address and user agent), for throttles and events.
    pub origin: Origin,
    /// The path and query of this request, to come back to after signing in.
    here: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Browser
where
    Arc<PageSettings>: FromRef<S>,
    Arc<FormTokens>: FromRef<S>,
    Arc<Tokens>: FromRef<S>,
    Arc<Sessions>: FromRef<S>,
    ClientAddressing: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let pages = Arc::<PageSettings>::from_ref(state);
        let forms = Arc::<FormTokens>::from_ref(state);
        let ClientOrigin(origin) = ClientOrigin::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let mut jar = CookieJar::from_headers(&parts.headers);
        let nonce = match jar.get(&pages.cookie_name(NONCE)) {
            Some(cookie) if !cookie.value().is_empty() => cookie.value().to_owned(),
            _ => {
                let nonce = forms.new_nonce().expose_secret().to_owned();
                jar = jar.add(cookie(&pages, NONCE, nonce.clone(), None));
                nonce
            }
        };
        let mut browser = Browser {
            form_token: forms.token_for(&nonce),
            session: None,
            here: parts
                .uri
                .path_and_query()
                .map_or("/ui/account", |p| p.as_str())
                .to_owned(),
            pages,
            jar,
            origin,
        };
        browser.resume_session(state).await;
        Ok(browser)
    }
}

impl Browser {
    /// Reads the session cookie: a live token signs the browser in (renewed when due), a
    /// dead one is cleared.
    async fn resume_session<S>(&mut self, state: &S)
    where
        Arc<Tokens>: FromRef<S>,
        Arc<Sessions>: FromRef<S>,
    {
        let Some(token) = self
            .jar
            .get(&self.pages.cookie_name(SESSION))
            .map(|c| c.value().to_owned())
        else {
            return;
        };
        let claims = match Arc::<Tokens>::from_ref(state).authenticate_session(&token) {
            Ok(claims) => claims,
            Err(_) => {
                self.end_session();
                return;
            }
        };
        let sessions = Arc::<Sessions>::from_ref(state);
        match sessions
            .renew_if_due(&SecretString::from(token), &claims, &self.origin)
            .await
        {
            Ok(Some(credential)) => self.start_session(&credential),
            Ok(None) => self.session = Some(claims),
            Err(err) => {
                tracing::debug!(%err, "browser session not renewed");
                self.session = Some(claims);
            }
        }
    }

    /// The signed-in session, or a redirect to the sign-in page that comes back here.
    pub fn signed_in(&self) -> Result<Claims, Box<Response>> {
        match &self.session {
            Some(claims) => Ok(claims.clone()),
            None => {
                let back = match self.here.starts_with("/ui/account/") {
                    true => "/ui/account",
                    false => self.here.as_str(),
                };
                let to = format!("/ui/login?return_to={}", urlencode(back));
                Err(Box::new((self.jar.clone(), Redirect::to(&to)).into_response()))
            }
        }
    }

    /// Keeps `credential`'s token as this browser's session; its sign-in flow is done.
    pub fn start_session(&mut self, credential: &Credential) {
        let token = credential.token.token.expose_secret().to_owned();
        let max_age = credential.expires_in.max(1);
        self.jar = self.jar.clone().add(cookie(&self.pages, SESSION, token, Some(max_age)));
        self.session = Some(credential.token.claims.clone());
    }

    /// Forgets the session (the token itself is revoked by whoever called this).
    pub fn end_session(&mut self) {
        self.jar = self.jar.clone().remove(removal(&self.pages, SESSION));
        self.session = None;
    }

    /// What binds a sign-in flow to this browser: derived from its nonce cookie, which no
    /// other browser holds (see `usecases/sign_in_flows.rs`).
    pub fn binding(&self) -> &str {
        &self.form_token
    }

    /// `template` with `values`, the form token and whether someone is signed in.
    pub fn page(self, status: StatusCode, template: &str, values: Value) -> Response {
        let page = context! {
            csrf => self.form_token,
            signed_in => self.session.is_some(),
            ..values
        };
        let body = self.pages.render(status, template, page);
        (self.jar, body).into_response()
    }

    /// A short page saying `message`, with a link onwards.
    pub fn message(self, title: &str, message: Message, link: (&str, &str)) -> Response {
        let status = message.status;
        let failed = status.is_client_error() || status.is_server_error();
        let values = context! { title, message, failed, link_href => link.0, link_text => link.1 };
        self.page(status, "message.html", values)
    }

    /// Off to another site (302, as OAuth 2.0 redirects are), carrying the changed cookies.
    pub fn leave_for(self, url: &str) -> Response {
        let found = (StatusCode::FOUND, [(header::LOCATION, url.to_owned())]);
        (self.jar, found).into_response()
    }

    /// A redirect (303, so the next request is a `GET`) carrying the changed cookies.
    pub fn redirect(self, to: &str) -> Response {
        (self.jar, Redirect::to(to)).into_response()
    }
}

/// The signed-in session's claims, or an early return of the redirect to the sign-in page:
/// `let claims = signed_in_or_return!(browser);` at the top of a page that needs a session.
macro_rules! signed_in_or_return {
    ($browser:expr) => {
        match $browser.signed_in() {
            Ok(claims) => claims,
            Err(to_sign_in) => return *to_sign_in,
        }
    };
}
pub(crate) use signed_in_or_return;

/// A cookie only this server's pages use: `HttpOnly`, `SameSite=Lax`, path `/`, and
/// `Secure` with the `__Host-` prefix when the public URL is https.
fn cookie(pages: &PageSettings, base: &str, value: String, max_age_secs: Option<i64>) -> Cookie<'static> {
    let mut built = Cookie::build((pages.cookie_name(base), value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(pages.secure_cookies);
    if let Some(seconds) = max_age_secs {
        built = built.max_age(time::Duration::seconds(seconds));
    }
    built.build()
}

fn removal(pages: &PageSettings, base: &str) -> Cookie<'static> {
    cookie(pages, base, String::new(), None)
}

/// Percent-encodes a query parameter value.
pub fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A form posted from one of this server's pages, with a valid anti-forgery token.
pub struct Submitted<T>(pub T);

#[derive(Deserialize)]
struct FormToken {
    csrf: String,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Submitted<T>
where
    Arc<PageSettings>: FromRef<S>,
    Arc<FormTokens>: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let pages = Arc::<PageSettings>::from_ref(state);
        let forms = Arc::<FormTokens>::from_ref(state);
        let refuse = |status: StatusCode, text: &str| {
            let values = context! {
                title => "This form was not accepted",
                message => Message::general(status, text),
                failed => true,
                link_href => "/ui/account",
                link_text => "Back",
            };
            pages.render(status, "message.html", values)
        };
        if !from_own_page(&pages, request.headers()) {
            return Err(refuse(StatusCode::FORBIDDEN, FORGED));
        }
        if !is_form(request.headers()) {
            return Err(refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send the form as a web page does.",
            ));
        }
        let jar = CookieJar::from_headers(request.headers());
        let nonce = SecretString::from(
            jar.get(&pages.cookie_name(NONCE))
                .map(|c| c.value().to_owned())
                .unwrap_or_default(),
        );
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|_| refuse(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large."))?;
        let token: Option<FormToken> = serde_urlencoded::from_bytes(&body).ok();
        if !token.is_some_and(|token| forms.accepts(&nonce, &token.csrf)) {
            return Err(refuse(StatusCode::FORBIDDEN, FORGED));
        }
        let form = serde_urlencoded::from_bytes(&body).map_err(|_| {
            refuse(
                StatusCode::BAD_REQUEST,
                "The form is incomplete. Go back, reload the page and fill it in again.",
            )
        })?;
        Ok(Submitted(form))
    }
}

const FORGED: &str = "This form did not come from this site, or the page was open too long. \
                      Go back, reload the page and try again.";

/// Whether a form comes from this server's pages: its `Origin` is one of ours. The pages'
/// `Referrer-Policy: no-referrer` makes browsers send `Origin: null` with their forms, so
/// then (and when there is no `Origin`) the browser's `Sec-Fetch-Site` must say the
/// request is not cross-site. With neither, nothing vouches for the form: it is refused
/// (fails closed). The form token is checked whatever these say.
fn from_own_page(pages: &PageSettings, headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let origin = text("origin").filter(|origin| *origin != "null");
    match (origin, text("sec-fetch-site")) {
        (Some(origin), _) => pages.allows_origin(origin),
        (None, Some(site)) => matches!(site, "same-origin" | "none"),
        (None, None) => false,
    }
}

/// Whether the body is declared `application/x-www-form-urlencoded`.
pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}
