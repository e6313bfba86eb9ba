//! What the OpenID Connect tests share: a server whose issuer is its own address, client
//! registration, token requests, the hosted sign-in over HTTP and reading redirects.

use std::collections::BTreeMap;
use std::sync::Arc;

use authd::config::Config;
use authd::ports::ManualClock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{Backend, TestServer, PASSWORD};

/// The redirect URI the tests' clients register (nothing listens there: the tests read the
/// redirect instead of following it).
pub const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// A first-party application with the default scopes (no `authd:api`).
pub async fn first_party_app(server: &TestServer, admin: &str) -> (String, Option<String>) {
    register(
        server,
        admin,
        json!({"name": "App", "redirectUris": [REDIRECT], "firstParty": true}),
    )
    .await
}

/// A server whose issuer (`AUTH_PUBLIC_URL`) is its own address, as discovery requires.
pub async fn start(backend: &Backend) -> (TestServer, String) {
    backend.start_with_admin(own_issuer()).await
}

/// [`start`] on a manual clock the test moves.
pub async fn start_on_clock(backend: &Backend) -> (TestServer, String, Arc<ManualClock>) {
    backend.start_with_admin_on_clock(own_issuer()).await
}

/// The settings of a server whose issuer is its own (fixed, free) address.
fn own_issuer() -> impl FnOnce(&mut Config) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    move |c| {
        c.listen = format!("127.0.0.1:{port}").parse().unwrap();
        c.public_url = format!("http://127.0.0.1:{port}");
        c.refresh_grace_secs = 1;
    }
}

pub async fn register(server: &TestServer, admin: &str, body: Value) -> (String, Option<String>) {
    let created = server.post("/clients", Some(admin), body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let secret = created.body["clientSecret"].as_str().map(str::to_owned);
    (created.body["clientId"].as_str().unwrap().to_owned(), secret)
}

/// `POST /oauth2/token` as `client` (HTTP Basic) with `form`.
pub async fn token_request(
    server: &TestServer,
    client: &(String, Option<String>),
    form: &[(&str, &str)],
) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.url("/oauth2/token"))
        .basic_auth(&client.0, client.1.as_deref())
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Whether `server` holds `token` active (`POST /token/introspect`, which answers for any
/// token of this server; an application's token does not reach `/user/me`).
pub async fn active(server: &TestServer, token: &str) -> bool {
    server
        .post("/token/introspect", None, json!({ "token": token }))
        .await
        .body["active"]
        == true
}

/// A browser session on `server` (the hosted sign-in over HTTP), as its cookies.
pub async fn signed_in_browser(server: &TestServer, email: &str) -> String {
    let http = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    let login = http.get(server.url("/ui/login")).send().await.unwrap();
    let mut cookies: BTreeMap<String, String> = BTreeMap::new();
    let keep = |cookies: &mut BTreeMap<String, String>, response: &reqwest::Response| {
        for value in response.headers().get_all("set-cookie") {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            cookies.insert(name.into(), value.into());
        }
    };
    keep(&mut cookies, &login);
    let body = login.text().await.unwrap();
    let at = body.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = body[at..at + body[at..].find('"').unwrap()].to_owned();
    let cookie_header = |cookies: &BTreeMap<String, String>| {
        cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let signed = http
        .post(server.url("/ui/login"))
        .header("cookie", cookie_header(&cookies))
        .header("origin", server.url(""))
        .form(&[("csrf", csrf.as_str()), ("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    keep(&mut cookies, &signed);
    cookie_header(&cookies)
}

/// `GET /oauth2/authorize?<query>` from a browser with `cookies`, redirects not followed.
pub async fn authorize(server: &TestServer, cookies: &str, query: &[(&str, &str)]) -> reqwest::Response {
    let http = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    http.get(server.url("/oauth2/authorize"))
        .query(query)
        .header("cookie", cookies)
        .send()
        .await
        .unwrap()
}

pub fn location(response: &reqwest::Response) -> url::Url {
    url::Url::parse(response.headers()["location"].to_str().unwrap())
        .or_else(|_| {
            url::Url::parse("http://relative.invalid")
                .unwrap()
                .join(response.headers()["location"].to_str().unwrap())
        })
        .unwrap()
}

pub fn parameter(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

pub fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}
