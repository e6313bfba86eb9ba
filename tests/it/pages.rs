//! The hosted pages over plain HTTP, the way a browser would use them: their security
//! headers and cookies, the anti-forgery check on forms, `return_to`, refusals shown as
//! pages (never problem JSON), throttling, and the browser session's renewal and end.
//! What needs a real browser (scripts, WebAuthn, layout) is in `tests/browser/`.

use std::collections::BTreeMap;

use crate::common::{Backend, TestServer, PASSWORD};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::StatusCode;

const ORIGIN: &str = "https://auth.example.com";

/// A browser without a screen: keeps cookies, sends forms with their token and an `Origin`.
struct Visitor<'a> {
    server: &'a TestServer,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
    csrf: String,
}

/// A page answer.
struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    fn assert_page(&self, status: u16, says: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        let content_type = self.headers.get("content-type").unwrap().to_str().unwrap();
        assert!(content_type.starts_with("text/html"), "{content_type}");
        assert!(self.body.contains(says), "page does not say {says:?}:\n{}", self.body);
    }
}

impl<'a> Visitor<'a> {
    fn new(server: &'a TestServer) -> Self {
        Self {
            server,
            http: reqwest::Client::builder().redirect(Policy::none()).build().unwrap(),
            cookies: BTreeMap::new(),
            csrf: String::new(),
        }
    }

    fn cookie_header(&self) -> String {
        let pairs: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        pairs.join("; ")
    }

    async fn keep(&mut self, response: reqwest::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        for cookie in headers.get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()) {
            let (pair, _) = cookie.split_once(';').unwrap_or((cookie, ""));
            let (name, value) = pair.split_once('=').unwrap();
            match value.is_empty() {
                true => self.cookies.remove(name),
                false => self.cookies.insert(name.to_owned(), value.to_owned()),
            };
        }
        let body = response.text().await.unwrap();
        if let Some(at) = body.find("name=\"csrf\" value=\"") {
            let rest = &body[at + 19..];
            self.csrf = rest[..rest.find('"').unwrap()].to_owned();
        }
        Page { status, headers, body }
    }

    async fn get(&mut self, path: &str) -> Page {
        let request = self
            .http
            .get(self.server.url(path))
            .header("cookie", self.cookie_header());
        let response = request.send().await.unwrap();
        self.keep(response).await
    }

    /// Posts `fields` and this browser's form token from `origin`.
    async fn post_from(&mut self, origin: &str, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        let csrf = self.csrf.clone();
        form.push(("csrf", &csrf));
        let request = self
            .http
            .post(self.server.url(path))
            .header("cookie", self.cookie_header())
            .header("origin", origin)
            .form(&form);
        let response = request.send().await.unwrap();
        self.keep(response).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.post_from(ORIGIN, path, fields).await
    }

    async fn sign_in(&mut self, email: &str) -> Page {
        self.get("/ui/login").await;
        self.post("/ui/login", &[("email", email), ("password", PASSWORD)])
            .await
    }
}

async fn start() -> TestServer {
    Backend::sqlite().start_with(|c| c.public_url = ORIGIN.into()).await
}

#[tokio::test]
async fn every_page_forbids_framing_inline_scripts_and_referrers() {
    let server = start().await;
    let mut visitor = Visitor::new(&server);
    for path in [
        "/ui/login",
        "/ui/signup",
        "/ui/forgot",
        "/ui/logout",
        "/ui/mfa",
        "/password/recover?hash=abc",
        "/user/verify?hash=abc",
        "/ui/nothing-here",
    ] {
        let page = visitor.get(path).await;
        let header = |name: &str| page.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let policy = header("content-security-policy");
        assert!(policy.contains("default-src 'none'"), "{path}: {policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{path}: {policy}");
        assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
        if path != "/ui/nothing-here" {
            assert_eq!(header("x-frame-options"), "DENY", "{path}");
            assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
            assert_eq!(header("cache-control"), "no-store", "{path}");
        }
        assert!(!page.body.contains("<script>"), "{path} has an inline script");
        assert!(!page.body.contains("style=\""), "{path} has an inline style");
    }
    let unknown = visitor.get("/ui/nothing-here").await;
    unknown.assert_page(404, "There is no such page");
}

#[tokio::test]
async fn cookies_are_http_only_lax_and_host_bound_on_https() {
    let server = start().await;
    server.sign_up("Ada", "ada@example.com").await;
    let mut visitor = Visitor::new(&server);
    let login = visitor.get("/ui/login").await;
    let signed_in = visitor.sign_in("ada@example.com").await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert_eq!(signed_in.location(), "/ui/account");
    let cookies: Vec<&str> = login.set_cookies().into_iter().chain(signed_in.set_cookies()).collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("__Host-authd_session=")),
        "{cookies:?}"
    );
    for cookie in cookies {
        assert!(cookie.starts_with("__Host-"), "{cookie}");
        for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
            assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
        }
        assert!(!cookie.contains("Domain="), "{cookie}");
    }
    visitor.get("/ui/account").await.assert_page(200, "ada@example.com");
}

#[tokio::test]
async fn plain_http_cookies_carry_no_prefix() {
    let server = Backend::sqlite()
        .start_with(|c| c.public_url = "http://localhost:8080".into())
        .await;
    let mut visitor = Visitor::new(&server);
    let page = visitor.get("/ui/login").await;
    let cookie = page.set_cookies()[0].to_owned();
    assert!(
        cookie.starts_with("authd_nonce=") && !cookie.contains("Secure"),
        "{cookie}"
    );
}

#[tokio::test]
async fn a_form_from_another_site_or_without_its_token_changes_nothing() {
    let server = start().await;
    let mut visitor = Visitor::new(&server);
    visitor.get("/ui/signup").await;
    let fields = [("name", "Eve"), ("email", "eve@example.com"), ("password", PASSWORD)];

    let cross_site = visitor.post_from("https://evil.example", "/ui/signup", &fields).await;
    cross_site.assert_page(403, "did not come from this site");

    let token = std::mem::replace(&mut visitor.csrf, "forged".into());
    visitor
        .post("/ui/signup", &fields)
        .await
        .assert_page(403, "did not come from this site");

    visitor.csrf = token.clone();
    visitor.cookies.clear();
    visitor
        .post("/ui/signup", &fields)
        .await
        .assert_page(403, "did not come from this site");

    let login = server
        .post(
            "/login",
            None,
            serde_json::json!({"email": "eve@example.com", "password": PASSWORD}),
        )
        .await;
    login.assert_problem(401, "invalid_credentials");
}

#[tokio::test]
async fn a_null_origin_passes_only_with_a_same_origin_fetch_site() {
    let server = start().await;
    server.sign_up("Ada", "ada@example.com").await;
    let mut visitor = Visitor::new(&server);
    visitor.get("/ui/login").await;
    let post = |site: &'static str, csrf: String, cookies: String| {
        let form = [
            ("email", "ada@example.com"),
            ("password", PASSWORD),
            ("csrf", csrf.as_str()),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let request = server
            .http
            .post(server.url("/ui/login"))
            .header("cookie", cookies)
            .header("origin", "null");
        let request = match site {
            "" => request,
            site => request.header("sec-fetch-site", site),
        };
        request.form(&form).send()
    };
    let unvouched = post("", visitor.csrf.clone(), visitor.cookie_header()).await.unwrap();
    assert_eq!(
        unvouched.status(),
        StatusCode::FORBIDDEN,
        "Origin: null alone fails closed"
    );
    let cross = post("cross-site", visitor.csrf.clone(), visitor.cookie_header())
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let same = post("same-origin", visitor.csrf.clone(), visitor.cookie_header())
        .await
        .unwrap();
    assert_eq!(
        same.status(),
        StatusCode::OK,
        "followed the redirect to the account page"
    );
}

#[tokio::test]
async fn return_to_is_followed_only_within_this_server() {
    let server = start().await;
    server.sign_up("Ada", "ada@example.com").await;
    for (return_to, lands) in [
        ("https://evil.example/", "/ui/account"),
        ("//evil.example/x", "/ui/account"),
        ("/\\evil.example", "/ui/account"),
        ("/ui/account?done=profile", "/ui/account?done=profile"),
    ] {
        let mut visitor = Visitor::new(&server);
        visitor.get("/ui/login").await;
        let fields = [
            ("email", "ada@example.com"),
            ("password", PASSWORD),
            ("return_to", return_to),
        ];
        let answer = visitor.post("/ui/login", &fields).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
        assert_eq!(answer.location(), lands, "return_to {return_to:?}");
    }
    let mut visitor = Visitor::new(&server);
    let login = visitor.get("/ui/login?return_to=https%3A%2F%2Fevil.example").await;
    assert!(
        !login.body.contains("evil.example"),
        "an unsafe return_to is not carried on"
    );
}

#[tokio::test]
async fn refusals_are_pages_with_the_message_next_to_the_field() {
    let server = Backend::sqlite()
        .start_with(|c| {
            c.public_url = ORIGIN.into();
            c.throttle_free_failures = 1000;
            c.throttle_account_failures = 3;
        })
        .await;
    server.sign_up("Ada", "ada@example.com").await;
    let mut visitor = Visitor::new(&server);
    visitor.get("/ui/signup").await;

    let bad_email = [("name", "Bob"), ("email", "not-an-address"), ("password", PASSWORD)];
    let page = visitor.post("/ui/signup", &bad_email).await;
    page.assert_page(400, "id=\"email-error\"");
    assert!(page.body.contains("value=\"not-an-address\""), "what was typed stays");
    assert!(!page.body.contains(PASSWORD), "a password is never echoed");

    let taken = [("name", "Bob"), ("email", "ada@example.com"), ("password", PASSWORD)];
    visitor
        .post("/ui/signup", &taken)
        .await
        .assert_page(409, "exists already");
    let weak = [("name", "Bob"), ("email", "bob@example.com"), ("password", "password")];
    visitor
        .post("/ui/signup", &weak)
        .await
        .assert_page(400, "id=\"password-error\"");
    visitor
        .post("/ui/signup", &[("name", "Bob")])
        .await
        .assert_page(400, "The form is incomplete");

    let wrong = [("email", "ada@example.com"), ("password", "not the password")];
    for _ in 0..3 {
        visitor
            .post("/ui/login", &wrong)
            .await
            .assert_page(401, "the password is wrong");
    }
    visitor
        .post("/ui/login", &wrong)
        .await
        .assert_page(429, "Too many attempts");
}

#[tokio::test]
async fn the_session_cookie_is_renewed_in_use_and_dies_with_its_session() {
    let (server, clock) = Backend::sqlite()
        .start_on_clock(|c| {
            c.public_url = ORIGIN.into();
            c.token_ttl_secs = 4;
        })
        .await;
    server.sign_up("Ada", "ada@example.com").await;
    let mut visitor = Visitor::new(&server);
    visitor.sign_in("ada@example.com").await;
    let first = visitor.cookies["__Host-authd_session"].clone();
    clock.advance(3);
    visitor.get("/ui/account").await.assert_page(200, "ada@example.com");
    let renewed = visitor.cookies["__Host-authd_session"].clone();
    assert_ne!(first, renewed, "past half its life, the token was rotated");

    let logout = server
        .request(reqwest::Method::POST, "/logout", Some(&renewed), None)
        .await;
    assert_eq!(logout.status, StatusCode::OK);
    let page = visitor.get("/ui/account").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/ui/login?return_to=%2Fui%2Faccount");
    assert!(
        !visitor.cookies.contains_key("__Host-authd_session"),
        "the dead cookie is cleared"
    );
}

#[tokio::test]
async fn the_links_in_e_mails_open_pages() {
    let server = start().await;
    let mut visitor = Visitor::new(&server);
    visitor
        .get("/password/recover?hash=abc")
        .await
        .assert_page(200, "Choose a new password");
    let recover = [
        ("hash", "abc"),
        ("password", "fresh passphrase 12"),
        ("confirm", "fresh passphrase 12"),
    ];
    visitor
        .post("/ui/recover", &recover)
        .await
        .assert_page(400, "expired or was used");
    visitor
        .get("/user/verify?hash=abc")
        .await
        .assert_page(400, "expired or was used");
    visitor
        .get("/password/recover")
        .await
        .assert_page(400, "expired or was used");
}

#[tokio::test]
async fn the_brand_is_the_operators() {
    let dir = std::env::temp_dir().join(format!("authd-logo-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let logo = dir.join("logo.svg");
    std::fs::write(&logo, "<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
    let server = Backend::sqlite()
        .start_with(|c| {
            c.public_url = ORIGIN.into();
            c.brand_name = "Acme Sign-in".into();
            c.brand_color = "#aa3300".into();
            c.brand_logo_file = Some(logo);
        })
        .await;
    let mut visitor = Visitor::new(&server);
    let page = visitor.get("/ui/login").await;
    page.assert_page(200, "<title>Sign in · Acme Sign-in</title>");
    assert!(page.body.contains("src=\"/ui/assets/logo\""));
    let css = server
        .http
        .get(server.url("/ui/assets/style.css"))
        .send()
        .await
        .unwrap();
    assert!(
        css.text().await.unwrap().contains("--accent: #aa3300;"),
        "the one stylesheet carries the brand colour"
    );
    let served = server.http.get(server.url("/ui/assets/logo")).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/svg+xml");
    std::fs::remove_dir_all(dir).unwrap();
}
