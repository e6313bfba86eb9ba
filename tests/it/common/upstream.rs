//! Upstream providers on loopback for the "Continue with ..." tests, beside the real ones
//! (a second authd here, panva's oidc-provider in the browser suite):
//!
//! - [`FakeOidc`]: an OpenID Connect provider the test can make misbehave in exactly one
//!   way (a wrong nonce, audience or issuer, an expired token, a bad signature, a key it
//!   rotated, a refusal, an RFC 9207 `iss` of another issuer), which no real provider does
//!   on request. It checks what authd sends: PKCE (S256), the client's secret (or Apple's
//!   ES256 client-secret JWT) and the redirect URI.
//! - [`FakeGithub`]: GitHub's OAuth 2.0 endpoints and the two API calls authd makes.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use parking_lot::Mutex;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{json, Value};
use sha2::Digest as _;

/// One way the fake provider misbehaves on its next answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Twist {
    #[default]
    None,
    /// `error=access_denied` instead of a code.
    Deny,
    WrongNonce,
    WrongAudience,
    WrongIssuer,
    Expired,
    /// Signed with another key under the known key's `kid`.
    BadSignature,
    /// Signed with a new key the JWKS lists only once fetched again.
    RotatedKey,
    /// An RFC 9207 `iss` naming another issuer on the redirect.
    MixUp,
}

/// Who the fake provider says signs in.
#[derive(Debug, Clone)]
pub struct Person {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: String,
    /// Microsoft's tenant id, when set.
    pub tid: Option<String>,
}

impl Person {
    pub fn new(subject: &str, email: &str, verified: bool) -> Self {
        Self {
            subject: subject.into(),
            email: Some(email.into()),
            email_verified: verified,
            name: "Upstream Person".into(),
            tid: None,
        }
    }
}

struct Pending {
    nonce: Option<String>,
    challenge: String,
    redirect_uri: String,
}

struct FakeState {
    issuer: String,
    client_id: String,
    client_secret: String,
    twist: Twist,
    person: Person,
    pending: HashMap<String, Pending>,
    /// Requests per endpoint (`discovery`, `jwks`, `token`).
    calls: HashMap<&'static str, u32>,
    /// The issuer path the fake answers under (Microsoft's `/common/v2.0`).
    issuer_path: String,
    /// Apple: the client secret is an ES256 JWT, the answer a POSTed form.
    apple: bool,
}

/// A misbehaving-on-request OpenID Connect provider.
pub struct FakeOidc {
    pub issuer: String,
    state: Arc<Mutex<FakeState>>,
}

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

impl FakeOidc {
    /// A provider at `http://127.0.0.1:<port><path>` for the client `client_id`.
    pub async fn start(client_id: &str, client_secret: &str, path: &str, apple: bool) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://127.0.0.1:{}{path}", listener.local_addr().unwrap().port());
        let state = Arc::new(Mutex::new(FakeState {
            issuer: issuer.clone(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            twist: Twist::None,
            person: Person::new("fake-1", "someone@example.com", true),
            pending: HashMap::new(),
            calls: HashMap::new(),
            issuer_path: path.into(),
            apple,
        }));
        let router = Router::new()
            .route(&format!("{path}/.well-known/openid-configuration"), get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { issuer, state }
    }

    pub fn twist(&self, twist: Twist) {
        self.state.lock().twist = twist;
    }

    pub fn signs_in(&self, person: Person) {
        self.state.lock().person = person;
    }

    /// How many requests `endpoint` has had.
    pub fn calls(&self, endpoint: &str) -> u32 {
        self.state.lock().calls.get(endpoint).copied().unwrap_or(0)
    }

    /// The issuer as a token of tenant `tid` names it (Microsoft).
    pub fn tenant_issuer(&self, tid: &str) -> String {
        self.issuer.replace("/common/", &format!("/{tid}/"))
    }
}

fn count(state: &Mutex<FakeState>, endpoint: &'static str) {
    *state.lock().calls.entry(endpoint).or_default() += 1;
}

async fn discovery(State(state): State<Arc<Mutex<FakeState>>>) -> Json<Value> {
    count(&state, "discovery");
    let state = state.lock();
    let base = state.issuer.trim_end_matches(&state.issuer_path).to_owned();
    // Microsoft's common endpoint names a tenant template, not itself.
    let issuer = match state.issuer_path.contains("/common/") {
        true => state.issuer.replace("/common/", "/{tenantid}/"),
        false => state.issuer.clone(),
    };
    let auth_methods = match state.apple {
        true => json!(["client_secret_post"]),
        false => json!(["client_secret_basic", "client_secret_post"]),
    };
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "authorization_response_iss_parameter_supported": true,
    }))
}

fn rsa_key(file: &str) -> rsa::RsaPrivateKey {
    let pem = std::fs::read_to_string(format!("{FIXTURES}/{file}")).unwrap();
    rsa::RsaPrivateKey::from_pkcs8_pem(&pem).unwrap()
}

fn jwk(file: &str, kid: &str) -> Value {
    let key = rsa_key(file);
    json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
    })
}

async fn jwks(State(state): State<Arc<Mutex<FakeState>>>) -> Json<Value> {
    count(&state, "jwks");
    let state = state.lock();
    let mut keys = vec![jwk("oidc-rsa.pem", "k1")];
    // A key the provider rotated in: listed from the moment it signs with it.
    if state.twist == Twist::RotatedKey {
        keys.push(jwk("upstream-rsa-2.pem", "k2"));
    }
    Json(json!({ "keys": keys }))
}

async fn authorize(
    State(state): State<Arc<Mutex<FakeState>>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut state = state.lock();
    let get = |name: &str| query.get(name).cloned().unwrap_or_default();
    assert_eq!(get("client_id"), state.client_id);
    assert_eq!(get("response_type"), "code");
    assert_eq!(get("code_challenge_method"), "S256", "authd always sends PKCE");
    let redirect_uri = get("redirect_uri");
    let callback_state = get("state");
    let mut back = url::Url::parse(&redirect_uri).unwrap();
    if state.twist == Twist::Deny {
        back.query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("state", &callback_state);
        return Redirect::to(back.as_str()).into_response();
    }
    let code = uuid::Uuid::new_v4().simple().to_string();
    state.pending.insert(
        code.clone(),
        Pending {
            nonce: query.get("nonce").cloned(),
            challenge: get("code_challenge"),
            redirect_uri: redirect_uri.clone(),
        },
    );
    let iss = match state.twist {
        Twist::MixUp => "https://attacker.example".to_owned(),
        _ => state.issuer.replace("/common/", "/tenant-1/"),
    };
    if get("response_mode") == "form_post" {
        let user = json!({"name": {"firstName": "Ada", "lastName": "Apple"}, "email": state.person.email});
        let user = user.to_string().replace('"', "&quot;");
        let page = format!(
            "<form method=\"post\" action=\"{redirect_uri}\"><input type=\"hidden\" name=\"code\" value=\"{code}\">\
             <input type=\"hidden\" name=\"state\" value=\"{callback_state}\"><input type=\"hidden\" name=\"user\" value=\"{user}\"></form>"
        );
        return Html(page).into_response();
    }
    back.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &callback_state)
        .append_pair("iss", &iss);
    Redirect::to(back.as_str()).into_response()
}

async fn token(
    State(state): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    count(&state, "token");
    let mut state = state.lock();
    let refuse = |what: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": what})),
        )
            .into_response()
    };
    let Some(pending) = state.pending.remove(form.get("code").map_or("", |c| c.as_str())) else {
        return refuse("unknown or used code");
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes())) != pending.challenge {
        return refuse("PKCE verifier does not match");
    }
    if form.get("redirect_uri") != Some(&pending.redirect_uri) {
        return refuse("redirect_uri differs");
    }
    if !client_authenticated(&state, &headers, &form) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_client"}))).into_response();
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let person = state.person.clone();
    let mut issuer = match &person.tid {
        Some(tid) => state.issuer.replace("/common/", &format!("/{tid}/")),
        None => state.issuer.clone(),
    };
    let mut claims = json!({
        "sub": person.subject, "aud": state.client_id, "iat": now, "exp": now + 300,
        "nonce": pending.nonce, "email": person.email, "email_verified": person.email_verified, "name": person.name,
    });
    if let Some(tid) = &person.tid {
        claims["tid"] = json!(tid);
    }
    if state.apple {
        // Apple's ID tokens carry no name; it comes once, in the POSTed form.
        claims.as_object_mut().unwrap().remove("name");
    }
    let (mut file, mut kid) = ("oidc-rsa.pem", "k1");
    match state.twist {
        Twist::WrongNonce => claims["nonce"] = json!("another-nonce"),
        Twist::WrongAudience => claims["aud"] = json!("someone-else"),
        Twist::WrongIssuer => issuer = "https://elsewhere.example".into(),
        Twist::Expired => {
            claims["iat"] = json!(now - 400);
            claims["exp"] = json!(now - 100);
        }
        Twist::BadSignature => file = "upstream-rsa-2.pem",
        Twist::RotatedKey => (file, kid) = ("upstream-rsa-2.pem", "k2"),
        Twist::None | Twist::Deny | Twist::MixUp => {}
    }
    claims["iss"] = json!(issuer);
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.into());
    let pem = std::fs::read(format!("{FIXTURES}/{file}")).unwrap();
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&pem).unwrap();
    let id_token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    Json(json!({"access_token": "at-1", "token_type": "Bearer", "expires_in": 300, "id_token": id_token}))
        .into_response()
}

/// The client's secret in HTTP Basic or the form; for Apple, an ES256 JWT from its key.
fn client_authenticated(state: &FakeState, headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| v.split_once(':').map(|(id, secret)| (id.to_owned(), secret.to_owned())));
    let (id, secret) = match basic {
        Some((id, secret)) => (urlencoding_decode(&id), urlencoding_decode(&secret)),
        None => (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        ),
    };
    if id != state.client_id {
        return false;
    }
    if !state.apple {
        return secret == state.client_secret;
    }
    let pem = std::fs::read(format!("{FIXTURES}/apple-test.pub.pem")).unwrap();
    let key = jsonwebtoken::DecodingKey::from_ec_pem(&pem).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&["https://appleid.apple.com"]);
    validation.set_issuer(&["TEAM123456"]);
    let decoded = jsonwebtoken::decode::<Value>(&secret, &key, &validation);
    decoded
        .is_ok_and(|token| token.claims["sub"] == state.client_id && token.header.kid.as_deref() == Some("KEY1234567"))
}

fn urlencoding_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// GitHub's OAuth 2.0 and API, as much as authd uses.
pub struct FakeGithub {
    pub url: String,
    emails: Arc<Mutex<Vec<Value>>>,
}

impl FakeGithub {
    /// A GitHub whose user 4242 has `emails` (`[{"email", "primary", "verified"}]`).
    pub async fn start(emails: Value) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let emails = Arc::new(Mutex::new(emails.as_array().unwrap().clone()));
        let codes: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let authorize = {
            let codes = codes.clone();
            move |Query(query): Query<HashMap<String, String>>| async move {
                assert_eq!(query.get("code_challenge_method").map(String::as_str), Some("S256"));
                let code = uuid::Uuid::new_v4().simple().to_string();
                codes.lock().insert(code.clone(), query["code_challenge"].clone());
                let mut back = url::Url::parse(&query["redirect_uri"]).unwrap();
                back.query_pairs_mut()
                    .append_pair("code", &code)
                    .append_pair("state", &query["state"]);
                Redirect::to(back.as_str())
            }
        };
        let token = move |Form(form): Form<HashMap<String, String>>| async move {
            let challenge = codes.lock().remove(form.get("code").map_or("", |c| c.as_str()));
            let verifier = form.get("code_verifier").cloned().unwrap_or_default();
            let digest = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
            match challenge == Some(digest) {
                true => {
                    Json(json!({"access_token": "gho_fake", "token_type": "bearer", "scope": "read:user,user:email"}))
                }
                false => Json(json!({"error": "bad_verification_code"})),
            }
        };
        let user = |headers: HeaderMap| async move {
            match headers.get("authorization").and_then(|v| v.to_str().ok()) {
                Some("Bearer gho_fake") => {
                    Json(json!({"id": 4242, "login": "octo", "name": "Octo Cat"})).into_response()
                }
                _ => StatusCode::UNAUTHORIZED.into_response(),
            }
        };
        let listed = emails.clone();
        let user_emails = move |headers: HeaderMap| async move {
            match headers.get("authorization").and_then(|v| v.to_str().ok()) {
                Some("Bearer gho_fake") => Json(Value::Array(listed.lock().clone())).into_response(),
                _ => StatusCode::UNAUTHORIZED.into_response(),
            }
        };
        let router = Router::new()
            .route("/login/oauth/authorize", get(authorize))
            .route("/login/oauth/access_token", post(token))
            .route("/user", get(user))
            .route("/user/emails", get(user_emails));
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { url, emails }
    }

    pub fn set_emails(&self, emails: Value) {
        *self.emails.lock() = emails.as_array().unwrap().clone();
    }
}

/// A fake provider and the `[upstream.corp]` table naming it, for tests whose subject is
/// something else (the audit log, deletion).
pub async fn fake_corp() -> (FakeOidc, authd::upstream_config::UpstreamProvider) {
    let fake = FakeOidc::start("authd", "upstream-secret", "", false).await;
    let kind = authd::domain::upstream::ProviderKind::Oidc;
    let linking = authd::domain::upstream::Linking::Confirm;
    let corp = crate::upstream::provider("corp", kind, &fake.issuer, ("authd", "upstream-secret"), linking);
    (fake, corp)
}

/// Connects the provider `provider` to the account of the session `token` on `server`,
/// whose public URL is `public_url` (the callback is sent there: the browser is stopped
/// at it and opens the same path on the server's own address).
pub async fn connect(server: &crate::common::TestServer, token: &str, provider: &str, public_url: &str) {
    let browser = crate::common::browser::WebBrowser::new();
    let here = url::Url::parse(&server.url("/"))
        .unwrap()
        .origin()
        .ascii_serialization();
    let cookie = match public_url.starts_with("https:") {
        true => "__Host-authd_session",
        false => "authd_session",
    };
    browser.set_cookie(&here, cookie, token);
    browser.stop_at(public_url);
    let out = browser
        .open(&server.url(&format!("/login/upstream/{provider}?link=1")))
        .await;
    let back = server.url(&out.url[url::Position::BeforePath..]);
    let connected = browser.open(&back).await;
    assert!(
        connected.url.as_str().ends_with("done=connected"),
        "{} {}",
        connected.url,
        connected.body
    );
}
