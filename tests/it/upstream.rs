//! "Continue with ..." with a real upstream: a second authd (its own database, its own
//! sign-in pages) is the OpenID Connect provider of the authd under test, which reads its
//! Discovery, sends the person to its pages and validates its ID tokens. A person's
//! browser (`common::browser`) walks through both. Refusals a real provider only makes on
//! purpose are in `upstream_refusals.rs`.

use authd::config::Config;
use authd::domain::upstream::{AccountPolicy, Linking, ProviderId, ProviderKind};
use authd::upstream_config::UpstreamProvider;
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};

use crate::common::browser::WebBrowser;
use crate::common::oidc::{payload, register, token_request, REDIRECT};
use crate::common::{Backend, TestServer, PASSWORD};

/// The authd under test (`127.0.0.1`), its administrator, and the upstream authd
/// (`localhost`, so a browser keeps their cookies apart) with its administrator.
pub struct Pair {
    pub here: TestServer,
    pub admin: String,
    pub upstream: TestServer,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A provider table as the configuration file would give it.
pub fn provider(
    id: &str,
    kind: ProviderKind,
    issuer: &str,
    client: (&str, &str),
    linking: Linking,
) -> UpstreamProvider {
    UpstreamProvider {
        id: ProviderId::parse(id).unwrap(),
        kind,
        name: "Corp SSO".into(),
        issuer: Some(issuer.into()),
        client_id: client.0.into(),
        client_secret: Some(SecretString::from(client.1.to_owned())),
        scopes: vec!["openid".into(), "email".into(), "profile".into()],
        policy: AccountPolicy { linking, signup: true },
        github: None,
        apple: None,
    }
}

/// Both servers, the upstream knowing the one under test as a first-party client.
pub async fn pair(backend: &Backend, adjust: impl FnOnce(&mut Config, &mut UpstreamProvider)) -> Pair {
    let (up_port, here_port) = (free_port(), free_port());
    let (upstream, up_admin) = Backend::sqlite()
        .start_with_admin(move |c| {
            c.listen = format!("127.0.0.1:{up_port}").parse().unwrap();
            c.public_url = format!("http://localhost:{up_port}");
        })
        .await;
    let here_url = format!("http://127.0.0.1:{here_port}");
    let callback = format!("{here_url}/login/upstream/corp/callback");
    let client = register(
        &upstream,
        &up_admin,
        json!({"name": "Downstream", "redirectUris": [callback], "firstParty": true}),
    )
    .await;
    let issuer = format!("http://localhost:{up_port}");
    let mut corp = provider(
        "corp",
        ProviderKind::Oidc,
        &issuer,
        (&client.0, client.1.as_deref().unwrap()),
        Linking::Confirm,
    );
    let (here, admin) = backend
        .start_with_admin(move |c| {
            c.listen = format!("127.0.0.1:{here_port}").parse().unwrap();
            c.public_url = here_url;
            adjust(c, &mut corp);
            c.upstreams = vec![corp];
        })
        .await;
    Pair { here, admin, upstream }
}

/// Signs `email` in at the upstream's page the browser was sent to, and follows on.
pub async fn sign_in_upstream(
    browser: &WebBrowser,
    page: crate::common::browser::Page,
    email: &str,
) -> crate::common::browser::Page {
    assert!(
        page.url.as_str().contains("/ui/login"),
        "at {} ({})",
        page.url,
        page.status
    );
    browser
        .submit(&page, "/ui/login", &[("email", email), ("password", PASSWORD)])
        .await
}

/// A browser signed in to `here` through the upstream as `email`, and its session token.
async fn signed_in_upstream(here: &TestServer, email: &str) -> (WebBrowser, String) {
    let browser = WebBrowser::new();
    let at_upstream = browser.open(&here.url("/login/upstream/corp")).await;
    sign_in_upstream(&browser, at_upstream, email).await;
    let token = session_of(&browser, here);
    (browser, token)
}

/// The session token the browser holds for `server` (the pages' cookie).
pub fn session_of(browser: &WebBrowser, server: &TestServer) -> String {
    let origin = url::Url::parse(&server.url("/"))
        .unwrap()
        .origin()
        .ascii_serialization();
    browser.cookie(&origin, "authd_session").expect("signed in")
}

async fn events_of(server: &TestServer, admin: &str, kind: &str) -> Vec<Value> {
    let answer = server.get(&format!("/events?type={kind}&limit=100"), Some(admin)).await;
    answer.body["list"].as_array().cloned().unwrap_or_default()
}

async fn a_first_upstream_sign_in_makes_the_account_and_the_next_finds_it(backend: Backend) {
    let Pair { here, admin, upstream } = pair(&backend, |_, _| {}).await;
    upstream.sign_up("Ada Upstream", "ada@example.com").await;
    let offered = here.get("/upstreams", None).await;
    assert_eq!(
        offered.body,
        json!({"list": [{"id": "corp", "name": "Corp SSO", "kind": "oidc"}]})
    );

    let browser = WebBrowser::new();
    let login = browser.open(&here.url("/ui/login")).await;
    assert!(login.body.contains("Continue with Corp SSO"), "{}", login.body);
    let at_upstream = browser.open(&here.url("/login/upstream/corp")).await;
    let home = sign_in_upstream(&browser, at_upstream, "ada@example.com").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert!(home.url.as_str().ends_with("/ui/account"), "{}", home.url);
    assert!(home.body.contains("Connected accounts") && home.body.contains("Corp SSO"));

    let token = session_of(&browser, &here);
    let me = here.get("/user/me", Some(&token)).await;
    assert_eq!(me.body["email"], "ada@example.com");
    assert_eq!(me.body["name"], "Ada Upstream");
    let identities = here.get("/user/identities", Some(&token)).await;
    let list = identities.body["list"].as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{}", identities.body);
    assert_eq!(list[0]["provider"], "corp");
    assert_eq!(list[0]["email"], "ada@example.com");
    let upstream_id = upstream.login("ada@example.com").await;
    let upstream_me = upstream.get("/user/me", Some(&upstream_id)).await;
    assert_eq!(list[0]["subject"], upstream_me.body["id"]);
    // The account has no password: the password sign-in knows nothing of it.
    here.post(
        "/login",
        None,
        json!({"email": "ada@example.com", "password": PASSWORD}),
    )
    .await
    .assert_problem(401, "invalid_credentials");
    let created = events_of(&here, &admin, "user.created").await;
    assert!(created.iter().any(|e| e["data"]["provider"] == "corp"), "{created:?}");
    let linked = events_of(&here, &admin, "identity.linked").await;
    assert_eq!(linked.len(), 1);

    // Next time (signed out here, still in at the upstream): the same account, no form.
    let origin = url::Url::parse(&here.url("/")).unwrap().origin().ascii_serialization();
    browser.clear(&origin);
    let again = browser
        .open(&here.url("/login/upstream/corp?return_to=/ui/account%3Fdone%3Dprofile"))
        .await;
    assert!(
        again.url.as_str().ends_with("/ui/account?done=profile"),
        "{}",
        again.url
    );
    let token = session_of(&browser, &here);
    assert_eq!(here.get("/user/me", Some(&token)).await.body["id"], me.body["id"]);
    let users = here.get("/user?limit=100", Some(&admin)).await;
    let count = users.body["list"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["email"] == "ada@example.com")
        .count();
    assert_eq!(count, 1, "one account, found again");
    let logins = events_of(&here, &admin, "login.succeeded").await;
    let upstream_logins: Vec<&Value> = logins.iter().filter(|e| e["data"]["provider"] == "corp").collect();
    assert_eq!(upstream_logins.len(), 2, "{logins:?}");
    assert_eq!(upstream_logins[0]["data"]["method"], "upstream");
    here.stop().await;
}

async fn an_account_with_the_address_is_linked_only_after_its_own_sign_in(backend: Backend) {
    let Pair { here, admin, upstream } = pair(&backend, |_, _| {}).await;
    let own = here.sign_up("Ada Here", "ada@example.com").await;
    upstream.sign_up("Ada Upstream", "ADA@example.com").await;

    let browser = WebBrowser::new();
    let at_upstream = browser.open(&here.url("/login/upstream/corp")).await;
    let prove = sign_in_upstream(&browser, at_upstream, "ADA@example.com").await;
    assert!(prove.url.path().ends_with("/ui/login"), "{}", prove.url);
    assert!(
        prove.body.contains("To connect your Corp SSO account"),
        "{}",
        prove.body
    );
    let token = here.login("ada@example.com").await;
    assert_eq!(
        here.get("/user/identities", Some(&token)).await.body["list"],
        json!([]),
        "never linked silently"
    );
    assert!(events_of(&here, &admin, "identity.linked").await.is_empty());

    // A wrong password links nothing; the right one links and signs in.
    let wrong = browser
        .submit(
            &prove,
            "/ui/login",
            &[("email", "ada@example.com"), ("password", "not the password at all")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(here.get("/user/identities", Some(&token)).await.body["list"], json!([]));
    let home = browser
        .submit(
            &prove,
            "/ui/login",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert!(home.url.as_str().ends_with("/ui/account"), "{}", home.url);
    let list = here.get("/user/identities", Some(&token)).await.body["list"].clone();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let me = here.get("/user/me", Some(&session_of(&browser, &here))).await;
    assert_eq!(me.body["id"], json!(own), "signed in to the account that was proved");
    here.stop().await;
}

async fn a_second_factor_is_still_asked_and_the_session_says_both(backend: Backend) {
    let Pair { here, admin, upstream } = pair(&backend, |_, _| {}).await;
    upstream.sign_up("Ada Upstream", "ada@example.com").await;
    let (browser, token) = signed_in_upstream(&here, "ada@example.com").await;
    let enrolled = here
        .post("/mfa", Some(&token), json!({"strategy": "GOOGLE_AUTHENTICATOR"}))
        .await;
    let secret = totp_rs::Secret::Encoded(enrolled.body["secret"].as_str().unwrap().to_owned());
    let totp = totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        secret.to_bytes().unwrap(),
        None,
        "u".into(),
    )
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let validated = here
        .post(
            "/mfa/validate",
            Some(&token),
            json!({"id": enrolled.body["mfaId"], "code": totp.generate(now)}),
        )
        .await;
    assert_eq!(validated.status, 200, "{}", validated.body);

    let origin = url::Url::parse(&here.url("/")).unwrap().origin().ascii_serialization();
    browser.clear(&origin);
    let mfa = browser.open(&here.url("/login/upstream/corp")).await;
    assert!(
        mfa.url.path().ends_with("/ui/mfa"),
        "the upstream is the first factor only: {}",
        mfa.url
    );
    assert!(browser.cookie(&origin, "authd_session").is_none());
    let answer = browser
        .submit(&mfa, "/ui/mfa/choose", &[("strategy", "GOOGLE_AUTHENTICATOR")])
        .await;
    let home = browser
        .submit(&answer, "/ui/mfa/answer", &[("code", &totp.generate(now + 30))])
        .await;
    assert!(home.url.as_str().ends_with("/ui/account"), "{} {}", home.url, home.body);
    let logins = events_of(&here, &admin, "login.succeeded").await;
    let last = logins
        .iter()
        .find(|e| e["data"]["method"] == "upstream+GOOGLE_AUTHENTICATOR");
    assert_eq!(
        last.expect("the second factor's sign-in")["data"]["provider"],
        "corp",
        "{logins:?}"
    );
    here.stop().await;
}

async fn an_application_gets_authds_id_token_after_an_upstream_sign_in(backend: Backend) {
    let Pair { here, admin, upstream } = pair(&backend, |_, _| {}).await;
    upstream.sign_up("Ada Upstream", "ada@example.com").await;
    let client = register(
        &here,
        &admin,
        json!({"name": "Notes", "redirectUris": [REDIRECT], "firstParty": true}),
    )
    .await;
    let browser = WebBrowser::new();
    browser.stop_at(REDIRECT);
    let mut authorize = url::Url::parse(&here.url("/oauth2/authorize")).unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.0)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", "openid email")
        .append_pair("state", "app-state")
        .append_pair("nonce", "app-nonce");
    let login = browser.open(authorize.as_str()).await;
    assert!(login.url.path().ends_with("/ui/login"), "{}", login.url);
    let start = login
        .body
        .find("/login/upstream/corp?flow=")
        .expect("the button keeps the flow");
    let link = &login.body[start..start + login.body[start..].find('"').unwrap()];
    let at_upstream = browser.open(&here.url(&link.replace("&amp;", "&"))).await;
    let back = sign_in_upstream(&browser, at_upstream, "ada@example.com").await;
    assert!(
        back.url.as_str().starts_with(REDIRECT),
        "the authorization resumed: {}",
        back.url
    );
    let code = back
        .url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(
        back.url.query_pairs().find(|(k, _)| k == "state").unwrap().1,
        "app-state"
    );
    let tokens = token_request(
        &here,
        &client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    let tokens: Value = tokens.json().await.unwrap();
    let id_token = payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_token["email"], "ada@example.com");
    assert_eq!(id_token["nonce"], "app-nonce");
    assert_eq!(id_token["amr"], json!(["fed"]), "{id_token}");
    here.stop().await;
}

async fn connecting_and_disconnecting_on_the_account_page(backend: Backend) {
    let Pair { here, admin, upstream } = pair(&backend, |_, _| {}).await;
    here.sign_up("Ada Here", "ada@example.com").await;
    let token = here.login("ada@example.com").await;
    upstream.sign_up("Other Name", "someone.else@example.com").await;
    let browser = WebBrowser::new();
    let login = browser.open(&here.url("/ui/login")).await;
    let home = browser
        .submit(
            &login,
            "/ui/login",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert!(home.body.contains("Connect Corp SSO"), "{}", home.body);
    let at_upstream = browser.open(&here.url("/login/upstream/corp?link=1")).await;
    let connected = sign_in_upstream(&browser, at_upstream, "someone.else@example.com").await;
    assert!(
        connected.url.as_str().ends_with("/ui/account?done=connected"),
        "{}",
        connected.url
    );
    let list = here.get("/user/identities", Some(&token)).await.body["list"].clone();
    assert_eq!(
        list[0]["email"], "someone.else@example.com",
        "linked to the signed-in account, whatever its address"
    );

    // Disconnecting needs no more than the fresh session here; the password remains a way in.
    let disconnected = browser.submit(&connected, "/ui/account/identities/", &[]).await;
    assert!(
        disconnected.url.as_str().ends_with("/ui/account?done=disconnected"),
        "{}",
        disconnected.url
    );
    assert_eq!(here.get("/user/identities", Some(&token)).await.body["list"], json!([]));
    let unlinked = events_of(&here, &admin, "identity.unlinked").await;
    assert_eq!(unlinked.len(), 1);
    assert_eq!(unlinked[0]["data"]["provider"], "corp");
    here.stop().await;
}

async fn the_last_way_in_is_not_disconnected_and_deletion_takes_the_identities(backend: Backend) {
    let Pair { here, admin, upstream } = pair(&backend, |_, _| {}).await;
    upstream.sign_up("Ada Upstream", "ada@example.com").await;
    let (browser, token) = signed_in_upstream(&here, "ada@example.com").await;
    let list = here.get("/user/identities", Some(&token)).await.body["list"].clone();
    let id = list[0]["id"].as_str().unwrap().to_owned();
    here.request(Method::DELETE, &format!("/user/identities/{id}"), Some(&token), None)
        .await
        .assert_problem(409, "last_credential");
    here.request(
        Method::DELETE,
        &format!("/user/identities/{}", uuid::Uuid::new_v4()),
        Some(&token),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    let export = here.get("/user/me/export", Some(&token)).await;
    assert_eq!(export.body["identities"][0]["provider"], "corp", "{}", export.body);

    let user_id = here.get("/user/me", Some(&token)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // No password to confirm with: the fresh upstream sign-in is the recent authentication.
    let deleted = here
        .request(Method::DELETE, "/user/me", Some(&token), Some(json!({})))
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    let events = here.get(&format!("/events?userId={user_id}"), Some(&admin)).await;
    assert_eq!(events.body["list"][0]["type"], "user.deleted");
    // Signing in upstream again makes a new account: the old identity went with the old one.
    let origin = url::Url::parse(&here.url("/")).unwrap().origin().ascii_serialization();
    browser.clear(&origin);
    browser.open(&here.url("/login/upstream/corp")).await;
    let token = session_of(&browser, &here);
    let me = here.get("/user/me", Some(&token)).await;
    assert_ne!(me.body["id"], json!(user_id));
    here.stop().await;
}

backend_tests!(
    a_first_upstream_sign_in_makes_the_account_and_the_next_finds_it,
    an_account_with_the_address_is_linked_only_after_its_own_sign_in,
    a_second_factor_is_still_asked_and_the_session_says_both,
    an_application_gets_authds_id_token_after_an_upstream_sign_in,
    connecting_and_disconnecting_on_the_account_page,
    the_last_way_in_is_not_disconnected_and_deletion_takes_the_identities,
);
