//! Every refusal of an upstream sign-in, and the presets' peculiarities, against providers
//! on loopback that misbehave on request (`common::upstream`): each refusal is a page with
//! a message and a `login.failed` event, and makes, links and signs in nothing.

use authd::config::Config;
use authd::domain::upstream::{Linking, ProviderKind};
use authd::domain::user::SignupMode;
use authd::upstream_config::{AppleKey, GithubEndpoints, UpstreamProvider};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::browser::WebBrowser;
use crate::common::upstream::{FakeGithub, FakeOidc, Person, Twist};
use crate::common::{Backend, TestServer};
use crate::upstream::{provider, session_of};

const CLIENT: (&str, &str) = ("authd-here", "s3cret-of-the-client");

/// The server under test at its own address (the callback URL is built from it).
async fn start_here(
    backend: &Backend,
    providers: Vec<UpstreamProvider>,
    adjust: impl FnOnce(&mut Config),
) -> (TestServer, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    backend
        .start_with_admin(move |c| {
            c.listen = format!("127.0.0.1:{port}").parse().unwrap();
            c.public_url = format!("http://127.0.0.1:{port}");
            c.upstreams = providers;
            adjust(c);
        })
        .await
}

fn fake_provider(id: &str, kind: ProviderKind, fake: &FakeOidc, linking: Linking) -> UpstreamProvider {
    provider(id, kind, &fake.issuer, CLIENT, linking)
}

async fn users(server: &TestServer, admin: &str) -> usize {
    server.get("/user?limit=100", Some(admin)).await.body["list"]
        .as_array()
        .unwrap()
        .len()
}

async fn failures(server: &TestServer, admin: &str) -> Vec<Value> {
    let answer = server.get("/events?type=login.failed&limit=100", Some(admin)).await;
    answer.body["list"].as_array().cloned().unwrap_or_default()
}

fn origin_of(server: &TestServer) -> String {
    url::Url::parse(&server.url("/"))
        .unwrap()
        .origin()
        .ascii_serialization()
}

async fn every_bad_answer_is_a_page_that_changes_nothing(backend: Backend) {
    let fake = FakeOidc::start(CLIENT.0, CLIENT.1, "", false).await;
    let configured = fake_provider("fake", ProviderKind::Oidc, &fake, Linking::Confirm);
    let (here, admin) = start_here(&backend, vec![configured], |_| {}).await;
    let before = users(&here, &admin).await;
    let cases = [
        (Twist::Deny, 403, "cancelled or refused", "upstream_denied"),
        (
            Twist::WrongNonce,
            400,
            "could not be verified",
            "upstream_invalid_answer",
        ),
        (
            Twist::WrongAudience,
            400,
            "could not be verified",
            "upstream_invalid_answer",
        ),
        (
            Twist::WrongIssuer,
            400,
            "could not be verified",
            "upstream_invalid_answer",
        ),
        (Twist::Expired, 400, "could not be verified", "upstream_invalid_answer"),
        (
            Twist::BadSignature,
            400,
            "could not be verified",
            "upstream_invalid_answer",
        ),
        (Twist::MixUp, 400, "could not be verified", "upstream_invalid_answer"),
    ];
    for (twist, status, says, reason) in cases {
        fake.twist(twist);
        let browser = WebBrowser::new();
        let page = browser.open(&here.url("/login/upstream/fake")).await;
        assert_eq!(page.status.as_u16(), status, "{twist:?}: {}", page.body);
        assert!(
            page.url.path().ends_with("/login/upstream/fake/callback"),
            "{twist:?}: {}",
            page.url
        );
        assert!(page.body.contains(says), "{twist:?}: {}", page.body);
        assert!(
            browser.cookie(&origin_of(&here), "authd_session").is_none(),
            "{twist:?} signed in"
        );
        let failed = failures(&here, &admin).await;
        assert_eq!(failed[0]["data"]["reason"], reason, "{twist:?}: {failed:?}");
        assert_eq!(failed[0]["data"]["provider"], "fake");
    }
    assert_eq!(users(&here, &admin).await, before, "no account made");
    assert!(here.get("/events?type=identity.linked", Some(&admin)).await.body["list"] == json!([]));

    // The same provider answering well: an account, its address verified as the provider said.
    fake.twist(Twist::None);
    let browser = WebBrowser::new();
    let home = browser.open(&here.url("/login/upstream/fake")).await;
    assert!(home.url.as_str().ends_with("/ui/account"), "{} {}", home.url, home.body);
    let me = here.get("/user/me", Some(&session_of(&browser, &here))).await;
    assert_eq!(me.body["email"], "someone@example.com");
    assert_eq!(me.body["emailVerified"], true);
    here.stop().await;
}

async fn a_state_is_single_use_and_belongs_to_its_browser(backend: Backend) {
    let fake = FakeOidc::start(CLIENT.0, CLIENT.1, "", false).await;
    let configured = fake_provider("fake", ProviderKind::Oidc, &fake, Linking::Confirm);
    let (here, admin) = start_here(&backend, vec![configured], |_| {}).await;
    let browser = WebBrowser::new();
    browser.stop_at(&here.url("/login/upstream/fake/callback"));
    let out = browser.open(&here.url("/login/upstream/fake")).await;
    let callback = out.url.to_string();
    let departure = out.visited[1].clone();
    for (name, expected) in [
        ("state", None),
        ("nonce", None),
        ("code_challenge_method", Some("S256")),
    ] {
        let value = departure
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned());
        assert!(value.is_some(), "{name} sent: {departure}");
        if let Some(expected) = expected {
            assert_eq!(value.as_deref(), Some(expected));
        }
    }
    assert!(departure
        .query()
        .unwrap()
        .contains("redirect_uri=http%3A%2F%2F127.0.0.1"));

    // Another browser with the same answer (a leaked or planted link): refused, and the
    // flow stays its own browser's.
    let stranger = WebBrowser::new();
    let refused = stranger.open(&callback).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("expired or was used"), "{}", refused.body);
    let signed_in = browser.open(&callback).await;
    assert!(signed_in.url.as_str().ends_with("/ui/account"), "{}", signed_in.url);
    let replayed = browser.open(&callback).await;
    assert_eq!(replayed.status, StatusCode::BAD_REQUEST, "single use");
    let failed = failures(&here, &admin).await;
    assert_eq!(failed[0]["data"]["reason"], "upstream_invalid_state");
    here.stop().await;
}

async fn a_provider_that_does_not_answer_is_a_page_not_a_server_error(backend: Backend) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut configured = provider(
        "down",
        ProviderKind::Oidc,
        &format!("http://127.0.0.1:{closed}"),
        CLIENT,
        Linking::Confirm,
    );
    configured.name = "Down SSO".into();
    let (here, _admin) = start_here(&backend, vec![configured], |_| {}).await;
    let browser = WebBrowser::new();
    let page = browser.open(&here.url("/login/upstream/down")).await;
    assert_eq!(page.status.as_u16(), 424, "{}", page.body);
    assert!(page.body.contains("cannot be reached"), "{}", page.body);
    let unknown = browser.open(&here.url("/login/upstream/nobody")).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    here.stop().await;
}

async fn verified_email_links_only_when_both_sides_are_verified(backend: Backend) {
    let first = FakeOidc::start(CLIENT.0, CLIENT.1, "", false).await;
    let second = FakeOidc::start(CLIENT.0, CLIENT.1, "", false).await;
    let providers = vec![
        fake_provider("first", ProviderKind::Oidc, &first, Linking::VerifiedEmail),
        fake_provider("second", ProviderKind::Oidc, &second, Linking::VerifiedEmail),
    ];
    let (here, _admin) = start_here(&backend, providers, |_| {}).await;
    first.signs_in(Person::new("first-1", "ada@example.com", true));
    let browser = WebBrowser::new();
    let home = browser.open(&here.url("/login/upstream/first")).await;
    assert!(home.url.as_str().ends_with("/ui/account"), "{} {}", home.url, home.body);
    let token = session_of(&browser, &here);

    // The second provider does not vouch for the address: the account must be proved.
    second.signs_in(Person::new("second-1", "ada@example.com", false));
    let unverified = WebBrowser::new();
    let prove = unverified.open(&here.url("/login/upstream/second")).await;
    assert!(prove.url.path().ends_with("/ui/login"), "{}", prove.url);
    assert_eq!(
        here.get("/user/identities", Some(&token)).await.body["list"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The person proves it with the first provider (the account has no password): linked.
    let start = prove
        .body
        .find("/login/upstream/first?flow=")
        .expect("the first provider offered in the flow");
    let link = prove.body[start..start + prove.body[start..].find('"').unwrap()].to_owned();
    let home = unverified.open(&here.url(&link)).await;
    assert!(home.url.as_str().ends_with("/ui/account"), "{}", home.url);
    assert_eq!(
        here.get("/user/identities", Some(&token)).await.body["list"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Both sides verified: linked at once, signed in.
    second.signs_in(Person::new("second-2", "ADA@example.com", true));
    let verified = WebBrowser::new();
    let home = verified.open(&here.url("/login/upstream/second")).await;
    assert!(home.url.as_str().ends_with("/ui/account"), "{}", home.url);
    let me = here.get("/user/me", Some(&session_of(&verified, &here))).await;
    assert_eq!(me.body["email"], "ada@example.com");
    assert_eq!(
        here.get("/user/identities", Some(&token)).await.body["list"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    here.stop().await;
}

async fn no_account_is_made_where_sign_up_is_not_allowed(backend: Backend) {
    let fake = FakeOidc::start(CLIENT.0, CLIENT.1, "", false).await;
    let mut closed = fake_provider("closed", ProviderKind::Oidc, &fake, Linking::Confirm);
    closed.policy.signup = false;
    let open = fake_provider("fake", ProviderKind::Oidc, &fake, Linking::Confirm);
    let (here, admin) = start_here(&backend, vec![closed, open], |_| {}).await;
    let browser = WebBrowser::new();
    let page = browser.open(&here.url("/login/upstream/closed")).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("no account here"), "{}", page.body);
    assert_eq!(failures(&here, &admin).await[0]["data"]["reason"], "no_account");
    // A provider that shares no address cannot make an account either.
    let mut anonymous = Person::new("anon-1", "x@example.com", false);
    anonymous.email = None;
    fake.signs_in(anonymous);
    let page = WebBrowser::new().open(&here.url("/login/upstream/fake")).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("did not share"), "{}", page.body);
    here.stop().await;
    fake.signs_in(Person::new("fake-1", "someone@example.com", true));

    let fake_again = fake_provider("fake", ProviderKind::Oidc, &fake, Linking::Confirm);
    let (here, _admin) = start_here(&backend, vec![fake_again], |c| c.signup = SignupMode::Admin).await;
    let page = WebBrowser::new().open(&here.url("/login/upstream/fake")).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "sign-up by administrators only");
    here.stop().await;
}

async fn a_disabled_account_is_refused(backend: Backend) {
    let fake = FakeOidc::start(CLIENT.0, CLIENT.1, "", false).await;
    let configured = fake_provider("fake", ProviderKind::Oidc, &fake, Linking::Confirm);
    let (here, admin) = start_here(&backend, vec![configured], |_| {}).await;
    WebBrowser::new().open(&here.url("/login/upstream/fake")).await;
    let disabled = crate::common::authd_command(&backend)
        .args(["user", "disable", "someone@example.com"])
        .output()
        .unwrap();
    assert!(
        disabled.status.success(),
        "{}",
        String::from_utf8_lossy(&disabled.stderr)
    );
    let browser = WebBrowser::new();
    let page = browser.open(&here.url("/login/upstream/fake")).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(browser.cookie(&origin_of(&here), "authd_session").is_none());
    assert_eq!(failures(&here, &admin).await[0]["data"]["reason"], "account_disabled");
    here.stop().await;
}

async fn github_gives_its_primary_verified_address(backend: Backend) {
    let github = FakeGithub::start(json!([
        {"email": "octo@users.example", "primary": false, "verified": true},
        {"email": "octo@example.com", "primary": true, "verified": true},
    ]))
    .await;
    let mut configured = provider("github", ProviderKind::Github, "", CLIENT, Linking::Confirm);
    configured.issuer = None;
    configured.scopes = vec!["read:user".into(), "user:email".into()];
    configured.github = Some(GithubEndpoints {
        auth_url: format!("{}/login/oauth/authorize", github.url),
        token_url: format!("{}/login/oauth/access_token", github.url),
        api_url: github.url.clone(),
    });
    let (here, _admin) = start_here(&backend, vec![configured], |_| {}).await;
    let browser = WebBrowser::new();
    let home = browser.open(&here.url("/login/upstream/github")).await;
    assert!(home.url.as_str().ends_with("/ui/account"), "{} {}", home.url, home.body);
    let token = session_of(&browser, &here);
    let me = here.get("/user/me", Some(&token)).await;
    assert_eq!(me.body["email"], "octo@example.com");
    assert_eq!(me.body["name"], "Octo Cat");
    assert_eq!(me.body["emailVerified"], true);
    assert_eq!(
        here.get("/user/identities", Some(&token)).await.body["list"][0]["subject"],
        "4242"
    );

    // An unverified primary address is no address: a new person cannot make an account.
    here.request(
        reqwest::Method::DELETE,
        &format!(
            "/user/identities/{}",
            here.get("/user/identities", Some(&token)).await.body["list"][0]["id"]
                .as_str()
                .unwrap()
        ),
        Some(&token),
        None,
    )
    .await
    .assert_problem(409, "last_credential");
    github.set_emails(json!([{"email": "octo@example.com", "primary": true, "verified": false}]));
    let page = WebBrowser::new().open(&here.url("/login/upstream/github")).await;
    assert!(
        page.url.as_str().ends_with("/ui/account"),
        "the linked identity still finds its account"
    );
    here.stop().await;
}

async fn apples_form_post_comes_back_as_a_get_with_the_name(backend: Backend) {
    let fake = FakeOidc::start("com.example.web", "", "", true).await;
    let mut configured = provider(
        "apple",
        ProviderKind::Apple,
        &fake.issuer,
        ("com.example.web", "-"),
        Linking::Confirm,
    );
    configured.client_secret = None;
    configured.scopes = vec!["openid".into(), "email".into(), "name".into()];
    configured.apple = Some(AppleKey {
        team_id: "TEAM123456".into(),
        key_id: "KEY1234567".into(),
        private_key_file: std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/apple-test.p8"
        )),
    });
    fake.signs_in(Person::new("apple-1", "ada@privaterelay.example", true));
    let (here, _admin) = start_here(&backend, vec![configured], |_| {}).await;
    let browser = WebBrowser::new();
    let form_page = browser.open(&here.url("/login/upstream/apple")).await;
    assert!(
        form_page.body.contains("name=\"user\""),
        "Apple answers with a form to POST: {}",
        form_page.body
    );
    let home = browser.submit(&form_page, "/callback", &[]).await;
    assert!(
        home.went_through(&here.url("/login/upstream/apple/callback?")),
        "303 to a GET: {:?}",
        home.visited
    );
    assert!(home.url.as_str().ends_with("/ui/account"), "{} {}", home.url, home.body);
    let me = here.get("/user/me", Some(&session_of(&browser, &here))).await;
    assert_eq!(
        me.body["name"], "Ada Apple",
        "Apple's name comes in the form, not the ID token"
    );
    here.stop().await;
}

async fn microsofts_issuer_names_the_tokens_tenant(backend: Backend) {
    let fake = FakeOidc::start(CLIENT.0, CLIENT.1, "/common/v2.0", false).await;
    let configured = fake_provider("entra", ProviderKind::Microsoft, &fake, Linking::Confirm);
    let (here, admin) = start_here(&backend, vec![configured], |_| {}).await;
    let mut person = Person::new("entra-1", "ada@contoso.example", true);
    person.tid = Some("tenant-1".into());
    fake.signs_in(person.clone());
    let browser = WebBrowser::new();
    let home = browser.open(&here.url("/login/upstream/entra")).await;
    assert!(home.url.as_str().ends_with("/ui/account"), "{} {}", home.url, home.body);
    assert!(fake.tenant_issuer("tenant-1").ends_with("/tenant-1/v2.0"));

    // A token of another tenant than the redirect's `iss` names: refused.
    person.tid = Some("tenant-2".into());
    person.subject = "entra-2".into();
    fake.signs_in(person);
    let page = WebBrowser::new().open(&here.url("/login/upstream/entra")).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert_eq!(
        failures(&here, &admin).await[0]["data"]["reason"],
        "upstream_invalid_answer"
    );
    here.stop().await;
}

async fn a_rotated_key_is_fetched_again_and_a_warm_cache_costs_one_request(backend: Backend) {
    let fake = FakeOidc::start(CLIENT.0, CLIENT.1, "", false).await;
    let configured = fake_provider("fake", ProviderKind::Oidc, &fake, Linking::Confirm);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (here, clock) = backend
        .start_on_clock(move |c| {
            c.listen = format!("127.0.0.1:{port}").parse().unwrap();
            c.public_url = format!("http://127.0.0.1:{port}");
            c.upstreams = vec![configured];
        })
        .await;
    let browser = WebBrowser::new();
    browser.open(&here.url("/login/upstream/fake")).await;
    assert_eq!(
        (fake.calls("discovery"), fake.calls("jwks"), fake.calls("token")),
        (1, 1, 1)
    );
    // Warm: one request (the code exchange) per sign-in.
    let again = WebBrowser::new();
    again.open(&here.url("/login/upstream/fake")).await;
    assert_eq!(
        (fake.calls("discovery"), fake.calls("jwks"), fake.calls("token")),
        (1, 1, 2)
    );

    fake.twist(Twist::RotatedKey);
    let rotated = WebBrowser::new();
    rotated.stop_at(&here.url("/login/upstream/fake/callback"));
    let out = rotated.open(&here.url("/login/upstream/fake")).await;
    // Keys fetched a moment ago are not fetched again at once (no amplification).
    clock.advance(61);
    let home = rotated.open(out.url.as_str()).await;
    assert!(home.url.as_str().ends_with("/ui/account"), "{} {}", home.url, home.body);
    assert_eq!(fake.calls("jwks"), 2);
    let metrics = reqwest::get(here.url("/metrics")).await.unwrap().text().await.unwrap();
    let counted: f64 = metrics
        .lines()
        .filter(|line| line.starts_with("authd_upstream_requests_total{") && line.contains("provider=\"fake\""))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(counted, 6.0, "discovery, 2 key sets and 3 code exchanges: {metrics}");
    here.stop().await;
}

backend_tests!(
    every_bad_answer_is_a_page_that_changes_nothing,
    a_state_is_single_use_and_belongs_to_its_browser,
    a_provider_that_does_not_answer_is_a_page_not_a_server_error,
    verified_email_links_only_when_both_sides_are_verified,
    no_account_is_made_where_sign_up_is_not_allowed,
    a_disabled_account_is_refused,
    github_gives_its_primary_verified_address,
    apples_form_post_comes_back_as_a_get_with_the_name,
    microsofts_issuer_names_the_tokens_tenant,
    a_rotated_key_is_fetched_again_and_a_warm_cache_costs_one_request,
);
