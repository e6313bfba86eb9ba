//! Dependency outages, each on a dependency the test owns: PostgreSQL behind a relay the
//! test cuts, a Redis server of the test's own that it stops and starts, and the Twilio fake
//! behind a relay. Nothing here stops the services other tests share.

use std::time::Duration;

use crate::common::passkey::{SoftPasskey, Twist};
use crate::common::proxy::FaultProxy;
use crate::common::twilio::{self, FakeTwilio};
use crate::common::{answer, eventually, Answer, Backend, OwnedRedis, TestServer, PASSWORD};
use serde_json::json;
use uuid::Uuid;

/// Outages may take a few seconds to be noticed and to heal (pool and reconnect backoff).
const HEAL: Duration = Duration::from_secs(20);

async fn status_of(server: &TestServer, path: &str, token: Option<&str>) -> u16 {
    server.get(path, token).await.status.as_u16()
}

/// The backend's database URL, pointed at `proxy`.
fn through(proxy: &FaultProxy, database_url: &str) -> String {
    let mut url = reqwest::Url::parse(database_url).unwrap();
    url.set_port(Some(proxy.addr.port())).unwrap();
    url.to_string()
}

fn database_host(database_url: &str) -> String {
    let url = reqwest::Url::parse(database_url).unwrap();
    format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis: `make test` runs it when they answer"]
async fn postgres_down_answers_503_and_heals_when_it_returns() {
    let mut backend = Backend::postgres_redis().await;
    let proxy = FaultProxy::start(&database_host(&backend.database_url)).await;
    backend.database_url = through(&proxy, &backend.database_url);
    let (server, admin) = crate::common::oidc::start(&backend).await;
    let (_, email, token) = server.new_session().await;
    let app = crate::common::oidc::first_party_app(&server, &admin).await;
    let cookies = crate::common::oidc::signed_in_browser(&server, &email).await;

    proxy.cut().await;
    let query = [
        ("client_id", app.0.as_str()),
        ("redirect_uri", crate::common::oidc::REDIRECT),
        ("response_type", "code"),
        ("scope", "openid"),
    ];
    let authorize = crate::common::oidc::authorize(&server, &cookies, &query).await;
    assert_eq!(
        authorize.status().as_u16(),
        503,
        "a database failure is not \"signed out\": {:?}",
        authorize.headers().get("location")
    );
    server
        .get("/user/me", Some(&token))
        .await
        .assert_problem(503, "unavailable");
    let login = server
        .post("/login", None, json!({ "email": email, "password": PASSWORD }))
        .await;
    login.assert_problem(503, "unavailable");
    assert!(login.headers.contains_key("retry-after"));
    let ready = server.get("/health/ready", None).await;
    ready.assert_problem(503, "not_ready");
    assert!(ready.body["detail"].as_str().unwrap().contains("database"));
    assert_eq!(status_of(&server, "/health", None).await, 200, "the process lives on");
    // Token checks need no database.
    let introspected = server.post("/token/introspect", None, json!({ "token": token })).await;
    assert_eq!(introspected.status, 200, "{}", introspected.body);

    proxy.restore().await;
    let healed = eventually(HEAL, || async {
        status_of(&server, "/user/me", Some(&token)).await == 200
    })
    .await;
    assert!(healed, "requests succeed again once PostgreSQL is back");
    assert!(
        eventually(HEAL, || async {
            status_of(&server, "/health/ready", None).await == 200
        })
        .await
    );
    server.login(&email).await;
    server.stop().await;
}

fn rejected(answer: &Answer) -> bool {
    answer.status == 401
}

async fn login_from(server: &TestServer, client: &str, email: &str, password: &str) -> Answer {
    let request = server
        .http
        .post(server.url("/login"))
        .header("X-Forwarded-For", client)
        .json(&json!({ "email": email, "password": password }));
    answer(request.send().await.unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis: `make test` runs it when they answer"]
async fn redis_down_keeps_sessions_and_limits_working_and_catches_up_when_it_returns() {
    let mut backend = Backend::postgres_redis().await;
    let Some(mut redis) = OwnedRedis::start().await else {
        return;
    };
    backend.redis_url = Some(redis.url.clone());
    // A catch-up far slower than the test: only pub/sub and the catch-up on reconnect can
    // carry revocations between the instances in time.
    let adjust = |c: &mut authd::config::Config| {
        c.revocation_catch_up_ms = 600_000;
        c.client_ip_header = Some("X-Forwarded-For".into());
        c.throttle_free_failures = 3;
        c.throttle_backoff_base_ms = 60_000;
    };
    let a = backend.start_with(adjust).await;
    let b = backend.start_with(adjust).await;
    let (_, email, token) = a.new_session().await;
    let kept = a.login(&email).await;

    redis.stop();
    assert_eq!(
        status_of(&a, "/user/me", Some(&token)).await,
        200,
        "served from the local view"
    );
    assert_eq!(status_of(&b, "/user/me", Some(&token)).await, 200);
    let ready = a.get("/health/ready", None).await;
    ready.assert_problem(503, "not_ready");
    assert!(ready.body["detail"].as_str().unwrap().contains("redis"));

    // Limits fall back to this process.
    for _ in 0..3 {
        login_from(&a, "203.0.113.9", &email, "wrong password")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    login_from(&a, "203.0.113.9", &email, PASSWORD)
        .await
        .assert_problem(429, "rate_limited");
    let elsewhere = login_from(&a, "198.51.100.1", &email, PASSWORD).await;
    assert_eq!(elsewhere.status, 200, "{}", elsewhere.body);

    // A logout during the outage holds at once where it happened.
    assert_eq!(a.post("/logout", Some(&token), json!({})).await.status, 200);
    assert!(rejected(&a.get("/user/me", Some(&token)).await));

    redis.restart().await;
    let caught_up = eventually(HEAL, || async { rejected(&b.get("/user/me", Some(&token)).await) }).await;
    assert!(caught_up, "B learns of the outage's logout once Redis is back");
    assert!(eventually(HEAL, || async { status_of(&a, "/health/ready", None).await == 200 }).await);

    // Pub/sub is subscribed again: a new logout crosses over without a catch-up.
    assert_eq!(status_of(&b, "/user/me", Some(&kept)).await, 200);
    assert_eq!(a.post("/logout", Some(&kept), json!({})).await.status, 200);
    let crossed = eventually(Duration::from_secs(5), || async {
        rejected(&b.get("/user/me", Some(&kept)).await)
    })
    .await;
    assert!(crossed, "B hears the new logout over pub/sub");
    a.stop().await;
    b.stop().await;
}

fn totp_code(secret_base32: &str, at: u64) -> String {
    let secret = totp_rs::Secret::Encoded(secret_base32.to_owned()).to_bytes().unwrap();
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, secret, None, "user".into())
        .unwrap()
        .generate(at)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `POST /login` with the password on `server`, then `POST /mfa/choose` on `choose_on`;
/// returns the code hash.
async fn second_factor_asked(server: &TestServer, choose_on: &TestServer, email: &str, strategy: &str) -> String {
    let login = server
        .post("/login", None, json!({ "email": email, "password": PASSWORD }))
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let chosen = choose_on
        .post(
            "/mfa/choose",
            None,
            json!({ "hash": login.body["hash"], "strategy": strategy }),
        )
        .await;
    assert_eq!(chosen.status, 200, "{}", chosen.body);
    chosen.body["hash"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis: `make test` runs it when they answer"]
async fn redis_down_stops_no_mfa_login_or_passkey_ceremony_and_revocations_still_cross_within_a_second() {
    let mut backend = Backend::postgres_redis().await;
    let Some(mut redis) = OwnedRedis::start().await else {
        return;
    };
    backend.redis_url = Some(redis.url.clone());
    let origin = "https://auth.example.com";
    // The default catch-up: during the outage it alone carries revocations across.
    let adjust = |c: &mut authd::config::Config| {
        c.public_url = origin.into();
        c.throttle_free_failures = 1_000;
    };
    let a = backend.start_with(adjust).await;
    let b = backend.start_with(adjust).await;
    let (_, email, token) = a.new_session().await;
    let enrolled = a.post("/mfa", Some(&token), json!({ "strategy": "TOTP" })).await;
    assert_eq!(enrolled.status, 201, "{}", enrolled.body);
    let secret = enrolled.body["secret"].as_str().unwrap().to_owned();
    let validated = a
        .post(
            "/mfa/validate",
            Some(&token),
            json!({ "id": enrolled.body["mfaId"], "code": totp_code(&secret, unix_now()) }),
        )
        .await;
    assert_eq!(validated.status, 200, "{}", validated.body);

    redis.stop();

    // A passkey ceremony begun on A ends on B, and a passwordless one the other way.
    let started = a.post("/mfa", Some(&token), json!({ "strategy": "PASSKEY" })).await;
    assert_eq!(started.status, 201, "{}", started.body);
    let (mut passkey, response) = SoftPasskey::create(&started.body["publicKey"], origin, &Twist::default());
    let registered = b
        .post(
            "/mfa/validate",
            Some(&token),
            json!({ "id": started.body["mfaId"], "credential": response }),
        )
        .await;
    assert_eq!(registered.status, 200, "{}", registered.body);
    let begun = b.post("/login/passkey", None, json!({})).await;
    assert_eq!(begun.status, 200, "{}", begun.body);
    let assertion = passkey.get(&begun.body["publicKey"], origin, &Twist::default());
    let passwordless = a
        .post(
            "/login/passkey/finish",
            None,
            json!({ "hash": begun.body["hash"], "credential": assertion }),
        )
        .await;
    assert_eq!(passwordless.status, 200, "{}", passwordless.body);

    // Five wrong codes spread over both instances spend the challenge exactly.
    let code_hash = second_factor_asked(&a, &b, &email, "TOTP").await;
    for attempt in 0..5 {
        let server = if attempt % 2 == 0 { &a } else { &b };
        server
            .post("/mfa/code", None, json!({ "hash": code_hash, "code": "000000" }))
            .await
            .assert_problem(401, "invalid_code");
    }
    let next_step = totp_code(&secret, unix_now() + 30);
    a.post("/mfa/code", None, json!({ "hash": code_hash, "code": next_step }))
        .await
        .assert_problem(401, "invalid_hash");

    // The right code on the other instance signs in, once.
    let code_hash = second_factor_asked(&b, &a, &email, "TOTP").await;
    let signed_in = b
        .post("/mfa/code", None, json!({ "hash": code_hash, "code": next_step }))
        .await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    a.post("/mfa/code", None, json!({ "hash": code_hash, "code": next_step }))
        .await
        .assert_problem(401, "invalid_hash");

    // A logout on A reaches B within a second, through the database.
    let session = signed_in.token();
    assert_eq!(status_of(&b, "/user/me", Some(&session)).await, 200);
    assert_eq!(a.post("/logout", Some(&session), json!({})).await.status, 200);
    let crossed = eventually(Duration::from_secs(1), || async {
        rejected(&b.get("/user/me", Some(&session)).await)
    })
    .await;
    assert!(crossed, "B refuses the logged-out token within 1 s while Redis is down");
    a.stop().await;
    b.stop().await;
}

async fn sms_queued_while_twilio_is_unreachable_is_delivered_when_it_returns(backend: Backend) {
    let twilio = FakeTwilio::start().await;
    let twilio_addr = twilio.url.trim_start_matches("http://").to_owned();
    let proxy = FaultProxy::start(&twilio_addr).await;
    let server = backend
        .start_with(|c| {
            c.twilio_base_url = format!("http://{}", proxy.addr);
            c.twilio_account_sid = Some(twilio::SID.into());
            c.twilio_auth_token = Some(twilio::TOKEN.into());
            c.twilio_from = Some(twilio::FROM.into());
        })
        .await;
    let phone = format!("+5511{:09}", rand::random::<u32>() % 1_000_000_000);
    let email = format!("sms-{}@example.com", Uuid::new_v4().simple());
    let created = server
        .post(
            "/user",
            None,
            json!({ "name": "Sms", "email": email, "password": PASSWORD, "phone": phone }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let token = server.login(&email).await;

    proxy.cut().await;
    let enrolled = server.post("/mfa", Some(&token), json!({ "strategy": "PHONE" })).await;
    assert_eq!(
        enrolled.status, 201,
        "the API answers while Twilio is down: {}",
        enrolled.body
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(twilio.messages.lock().is_empty(), "nothing got through the outage");

    proxy.restore().await;
    let sms = twilio.wait_for(&phone, 0).await;
    let validated = server
        .post(
            "/mfa/validate",
            Some(&token),
            json!({ "id": enrolled.body["mfaId"], "code": sms.code() }),
        )
        .await;
    assert_eq!(validated.status, 200, "{}", validated.body);
    server.stop().await;
}

backend_tests!(sms_queued_while_twilio_is_unreachable_is_delivered_when_it_returns);
