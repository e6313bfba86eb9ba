//! MFA end to end: e-mail through a real SMTP server on loopback, SMS and WhatsApp through a
//! fake Twilio, TOTP computed like an authenticator app, recovery codes.

use std::time::Duration;

use crate::common::smtp::{Mailbox, SmtpServer};
use crate::common::twilio::{self, FakeTwilio};
use crate::common::{Backend, TestServer, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};
use totp_rs::{Algorithm, Secret, TOTP};
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(5);

/// A server wired to a loopback SMTP server and a fake Twilio.
struct Env {
    server: TestServer,
    mailbox: Mailbox,
    twilio: FakeTwilio,
    _smtp: SmtpServer,
}

async fn env(backend: &Backend) -> Env {
    env_with(backend, |_| {}).await
}

/// Like [`env`], with the server configuration adjusted.
async fn env_with(backend: &Backend, adjust: impl FnOnce(&mut authd::config::Config)) -> Env {
    let mailbox = Mailbox::default();
    let smtp = SmtpServer::start(0, mailbox.clone()).await;
    let twilio = FakeTwilio::start().await;
    let server = backend
        .start_with(|c| {
            configure(c, &smtp.url(), &twilio);
            adjust(c);
        })
        .await;
    Env {
        server,
        mailbox,
        twilio,
        _smtp: smtp,
    }
}

fn configure(config: &mut authd::config::Config, smtp_url: &str, twilio: &FakeTwilio) {
    config.smtp_url = Some(smtp_url.to_owned());
    config.mail_from = "authd@example.com".into();
    config.twilio_base_url = twilio.url.clone();
    config.twilio_account_sid = Some(twilio::SID.into());
    config.twilio_auth_token = Some(twilio::TOKEN.into());
    config.twilio_from = Some(twilio::FROM.into());
    config.twilio_whatsapp_from = Some(twilio::WHATSAPP_FROM.into());
}

/// Signs up a user (with `phone` if given) and logs in; returns (email, token).
async fn user_with(server: &TestServer, phone: Option<&str>) -> (String, String) {
    let email = format!("mfa-{}@example.com", Uuid::new_v4().simple());
    let mut body = json!({ "name": "Mfa User", "email": email, "password": PASSWORD });
    if let Some(phone) = phone {
        body["phone"] = json!(phone);
    }
    assert_eq!(server.post("/user", None, body).await.status, 201);
    let token = server.login(&email).await;
    (email, token)
}

fn random_phone() -> String {
    format!("+5511{:09}", rand::random::<u32>() % 1_000_000_000)
}

async fn enrol(server: &TestServer, token: &str, body: Value) -> Value {
    let answer = server.post("/mfa", Some(token), body).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body
}

async fn validate(server: &TestServer, token: &str, id: &Value, code: &str) -> crate::common::Answer {
    server
        .post("/mfa/validate", Some(token), json!({ "id": id, "code": code }))
        .await
}

/// `POST /login` for a user with MFA: returns (hash, strategyList).
async fn login_challenge(server: &TestServer, email: &str) -> (String, Vec<String>) {
    let answer = server
        .post("/login", None, json!({ "email": email, "password": PASSWORD }))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        answer.body.get("token").is_none(),
        "no token before the second factor: {}",
        answer.body
    );
    let strategies = answer.body["strategyList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    (answer.body["hash"].as_str().unwrap().to_owned(), strategies)
}

/// Enrols and validates an EMAIL factor (the first mail to `email`); returns its id.
async fn enable_email_factor(server: &TestServer, mailbox: &Mailbox, token: &str, email: &str) -> Value {
    let enrolled = enrol(server, token, json!({ "strategy": "EMAIL" })).await;
    let code = mailbox.wait_for(email, 0, WAIT).await.code();
    assert_eq!(validate(server, token, &enrolled["mfaId"], &code).await.status, 200);
    enrolled["mfaId"].clone()
}

/// A six-digit code that is surely not `code`.
fn wrong_code(code: &str) -> &'static str {
    if code == "999999" {
        "999998"
    } else {
        "999999"
    }
}

async fn choose(server: &TestServer, hash: &str, strategy: &str) -> String {
    let answer = server
        .post("/mfa/choose", None, json!({ "hash": hash, "strategy": strategy }))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["hash"].as_str().unwrap().to_owned()
}

async fn submit(server: &TestServer, hash: &str, code: &str) -> crate::common::Answer {
    server
        .post("/mfa/code", None, json!({ "hash": hash, "code": code }))
        .await
}

fn totp_of(secret_base32: &str) -> TOTP {
    let secret = Secret::Encoded(secret_base32.to_owned()).to_bytes().unwrap();
    TOTP::new(Algorithm::SHA1, 6, 1, 30, secret, None, "user".into()).unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn email_factor_from_enrolment_to_login(backend: Backend) {
    let Env {
        server, mailbox, _smtp, ..
    } = env(&backend).await;
    let (email, token) = user_with(&server, None).await;

    let enrolled = enrol(&server, &token, json!({ "strategy": "EMAIL" })).await;
    assert_eq!(enrolled["strategy"], "EMAIL");
    let mail = mailbox.wait_for(&email, 0, WAIT).await;
    assert_eq!(mail.from, "authd@example.com");
    let code = mail.code();
    let wrong = wrong_code(&code);
    validate(&server, &token, &enrolled["mfaId"], wrong)
        .await
        .assert_problem(401, "invalid_code");
    let validated = validate(&server, &token, &enrolled["mfaId"], &code).await;
    assert_eq!(validated.body, json!({ "result": true }));

    let listed = server.get("/mfa", Some(&token)).await;
    assert_eq!(listed.body["list"][0]["strategy"], "EMAIL");
    assert_eq!(listed.body["list"][0]["enabled"], true);
    assert_eq!(
        server.get("/user/me", Some(&token)).await.body["mfa"][0]["id"],
        enrolled["mfaId"]
    );
    server.request(Method::POST, "/logout", Some(&token), None).await;

    let (hash, strategies) = login_challenge(&server, &email).await;
    assert_eq!(strategies, ["EMAIL"]);
    let code_hash = choose(&server, &hash, "EMAIL").await;
    let code = mailbox.wait_for(&email, 1, WAIT).await.code();
    let credential = submit(&server, &code_hash, &code).await;
    assert_eq!(credential.status, 200, "{}", credential.body);
    assert_eq!(credential.body["email"], email);
    assert_eq!(server.get("/user/me", Some(&credential.token())).await.status, 200);

    submit(&server, &code_hash, &code)
        .await
        .assert_problem(401, "invalid_hash");
    server
        .post("/mfa/choose", None, json!({ "hash": hash, "strategy": "EMAIL" }))
        .await
        .assert_problem(401, "invalid_hash");
    server.stop().await;
}

async fn a_validated_factor_cannot_be_enrolled_again(backend: Backend) {
    let Env {
        server, mailbox, _smtp, ..
    } = env(&backend).await;
    let (email, token) = user_with(&server, None).await;
    let enrolled = enrol(&server, &token, json!({ "strategy": "EMAIL" })).await;
    let code = mailbox.wait_for(&email, 0, WAIT).await.code();
    validate(&server, &token, &enrolled["mfaId"], &code).await;
    server
        .post("/mfa", Some(&token), json!({ "strategy": "EMAIL" }))
        .await
        .assert_problem(409, "factor_exists");
    validate(&server, &token, &enrolled["mfaId"], &code)
        .await
        .assert_problem(409, "factor_exists");
    server.stop().await;
}

async fn phone_codes_travel_by_sms_and_whatsapp(backend: Backend) {
    let Env {
        server, twilio, _smtp, ..
    } = env(&backend).await;
    for (channel, to_prefix, from) in [
        (None, "", twilio::FROM.to_string()),
        (
            Some("whatsapp"),
            "whatsapp:",
            format!("whatsapp:{}", twilio::WHATSAPP_FROM),
        ),
    ] {
        let phone = random_phone();
        let (email, token) = user_with(&server, Some(&phone)).await;
        let mut body = json!({ "strategy": "PHONE" });
        if let Some(channel) = channel {
            body["channel"] = json!(channel);
        }
        let enrolled = enrol(&server, &token, body).await;
        let to = format!("{to_prefix}{phone}");
        let sms = twilio.wait_for(&to, 0).await;
        assert_eq!(sms.from, from);
        assert_eq!(
            validate(&server, &token, &enrolled["mfaId"], &sms.code()).await.status,
            200
        );
        let listed = server.get("/mfa", Some(&token)).await;
        assert_eq!(listed.body["list"][0]["channel"], channel.unwrap_or("sms"));

        let (hash, strategies) = login_challenge(&server, &email).await;
        assert_eq!(strategies, ["PHONE"]);
        let code_hash = choose(&server, &hash, "PHONE").await;
        let code = twilio.wait_for(&to, 1).await.code();
        let credential = submit(&server, &code_hash, &code).await;
        assert_eq!(credential.status, 200, "{}", credential.body);
    }
    assert_eq!(
        *twilio.rejected_auth.lock(),
        0,
        "every call carried the right credentials"
    );

    let (_, no_phone) = user_with(&server, None).await;
    server
        .post("/mfa", Some(&no_phone), json!({ "strategy": "PHONE" }))
        .await
        .assert_problem(400, "phone_required");
    server
        .post(
            "/mfa",
            Some(&no_phone),
            json!({ "strategy": "PHONE", "channel": "fax" }),
        )
        .await
        .assert_problem(400, "validation_failed");
    server
        .post("/mfa", Some(&no_phone), json!({ "strategy": "PIGEON" }))
        .await
        .assert_problem(400, "validation_failed");
    server.stop().await;
}

async fn totp_enrolment_and_login_never_accept_a_step_twice(backend: Backend) {
    let Env { server, _smtp, .. } = env(&backend).await;
    let (email, token) = user_with(&server, None).await;
    let enrolled = enrol(&server, &token, json!({ "strategy": "TOTP" })).await;
    assert_eq!(enrolled["strategy"], "GOOGLE_AUTHENTICATOR");
    assert!(enrolled["otpauthUri"].as_str().unwrap().starts_with("otpauth://totp/"));
    assert!(enrolled["qrCode"]
        .as_str()
        .unwrap()
        .starts_with("data:image/png;base64,"));
    let totp = totp_of(enrolled["secret"].as_str().unwrap());

    validate(&server, &token, &enrolled["mfaId"], "123")
        .await
        .assert_problem(401, "invalid_code");
    let current = totp.generate(now());
    assert_eq!(
        validate(&server, &token, &enrolled["mfaId"], &current).await.status,
        200
    );

    let (hash, strategies) = login_challenge(&server, &email).await;
    assert_eq!(strategies, ["GOOGLE_AUTHENTICATOR"]);
    let code_hash = choose(&server, &hash, "TOTP").await;
    // The step used to validate is spent; the next one (within the ±1 window) is not.
    let next = totp.generate(now() + 30);
    let replay_step = if next == current {
        None
    } else {
        Some(submit(&server, &code_hash, &current).await)
    };
    if let Some(replayed) = replay_step {
        replayed.assert_problem(401, "invalid_code");
    }
    let credential = submit(&server, &code_hash, &next).await;
    assert_eq!(credential.status, 200, "{}", credential.body);

    let (hash, _) = login_challenge(&server, &email).await;
    let code_hash = choose(&server, &hash, "GOOGLE_AUTHENTICATOR").await;
    submit(&server, &code_hash, &next)
        .await
        .assert_problem(401, "invalid_code");
    server.stop().await;
}

async fn recovery_codes_work_once_and_a_new_set_replaces_the_old(backend: Backend) {
    let Env { server, _smtp, .. } = env(&backend).await;
    let (email, token) = user_with(&server, None).await;
    server
        .request(Method::POST, "/mfa/recovery", Some(&token), None)
        .await
        .assert_problem(400, "no_validated_factor");
    let enrolled = enrol(&server, &token, json!({ "strategy": "GOOGLE_AUTHENTICATOR" })).await;
    let totp = totp_of(enrolled["secret"].as_str().unwrap());
    validate(&server, &token, &enrolled["mfaId"], &totp.generate(now())).await;

    let first_set = server.request(Method::POST, "/mfa/recovery", Some(&token), None).await;
    assert_eq!(first_set.status, 201);
    let old_codes: Vec<String> = serde_json::from_value(first_set.body["codes"].clone()).unwrap();
    let second_set = server.request(Method::POST, "/mfa/recovery", Some(&token), None).await;
    let codes: Vec<String> = serde_json::from_value(second_set.body["codes"].clone()).unwrap();
    assert_eq!(codes.len(), 10);

    let (hash, strategies) = login_challenge(&server, &email).await;
    assert_eq!(strategies, ["GOOGLE_AUTHENTICATOR", "RECOVERY_CODE"]);
    let code_hash = choose(&server, &hash, "RECOVERY_CODE").await;
    submit(&server, &code_hash, &old_codes[0])
        .await
        .assert_problem(401, "invalid_code");
    assert_eq!(submit(&server, &code_hash, &codes[0]).await.status, 200);

    let (hash, _) = login_challenge(&server, &email).await;
    let code_hash = choose(&server, &hash, "RECOVERY_CODE").await;
    submit(&server, &code_hash, &codes[0])
        .await
        .assert_problem(401, "invalid_code");
    assert_eq!(submit(&server, &code_hash, &codes[1].to_uppercase()).await.status, 200);
    server.stop().await;
}

/// Without the client backoff (tested on its own below), to see the per-challenge limit.
fn without_backoff(config: &mut authd::config::Config) {
    config.throttle_free_failures = 1_000;
}

async fn five_wrong_codes_void_the_login_challenge_even_in_parallel(backend: Backend) {
    let Env {
        server, mailbox, _smtp, ..
    } = env_with(&backend, without_backoff).await;
    let (email, token) = user_with(&server, None).await;
    enable_email_factor(&server, &mailbox, &token, &email).await;

    let (hash, _) = login_challenge(&server, &email).await;
    let code_hash = choose(&server, &hash, "EMAIL").await;
    let code = mailbox.wait_for(&email, 1, WAIT).await.code();
    let wrong = wrong_code(&code);
    let guesses = (0..12).map(|_| submit(&server, &code_hash, wrong));
    let answers = futures::future::join_all(guesses).await;
    let invalid_codes = answers.iter().filter(|a| a.body["code"] == "invalid_code").count();
    assert!(
        invalid_codes <= 5,
        "at most 5 guesses were compared, got {invalid_codes}"
    );
    assert!(answers.iter().all(|a| a.status == 401));
    submit(&server, &code_hash, &code)
        .await
        .assert_problem(401, "invalid_hash");

    // Sequentially: the fifth wrong code voids the challenge too.
    let (hash, _) = login_challenge(&server, &email).await;
    let code_hash = choose(&server, &hash, "EMAIL").await;
    let code = mailbox.wait_for(&email, 2, WAIT).await.code();
    let wrong = wrong_code(&code);
    for _ in 0..5 {
        submit(&server, &code_hash, wrong)
            .await
            .assert_problem(401, "invalid_code");
    }
    submit(&server, &code_hash, &code)
        .await
        .assert_problem(401, "invalid_hash");
    server.stop().await;
}

async fn five_wrong_codes_void_the_enrolment(backend: Backend) {
    let Env {
        server, mailbox, _smtp, ..
    } = env_with(&backend, without_backoff).await;
    let (email, token) = user_with(&server, None).await;
    let enrolled = enrol(&server, &token, json!({ "strategy": "EMAIL" })).await;
    let code = mailbox.wait_for(&email, 0, WAIT).await.code();
    let wrong = wrong_code(&code);
    for _ in 0..5 {
        validate(&server, &token, &enrolled["mfaId"], wrong)
            .await
            .assert_problem(401, "invalid_code");
    }
    let late = validate(&server, &token, &enrolled["mfaId"], &code).await;
    assert!(late.status == 401 || late.status == 404, "{}", late.body);
    assert_eq!(server.get("/mfa", Some(&token)).await.body["list"], json!([]));
    server.stop().await;
}

async fn wrong_codes_back_off_per_user_and_client_across_challenges(backend: Backend) {
    let Env {
        server, mailbox, _smtp, ..
    } = env_with(&backend, |c| {
        c.throttle_free_failures = 3;
        c.throttle_backoff_base_ms = 30_000;
    })
    .await;
    let (email, token) = user_with(&server, None).await;
    enable_email_factor(&server, &mailbox, &token, &email).await;

    let (hash, _) = login_challenge(&server, &email).await;
    let code_hash = choose(&server, &hash, "EMAIL").await;
    let code = mailbox.wait_for(&email, 1, WAIT).await.code();
    for _ in 0..3 {
        submit(&server, &code_hash, wrong_code(&code))
            .await
            .assert_problem(401, "invalid_code");
    }
    // A fresh challenge does not buy fresh guesses: the right code now waits its turn.
    let (hash, _) = login_challenge(&server, &email).await;
    let code_hash = choose(&server, &hash, "EMAIL").await;
    let code = mailbox.wait_for(&email, 2, WAIT).await.code();
    let refused = submit(&server, &code_hash, &code).await;
    refused.assert_problem(429, "rate_limited");
    let retry_after: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((20..=30).contains(&retry_after), "retry after {retry_after} s");
    server.stop().await;
}

async fn choose_and_code_refuse_bad_input(backend: Backend) {
    let Env {
        server, mailbox, _smtp, ..
    } = env(&backend).await;
    let (email, token) = user_with(&server, None).await;
    enable_email_factor(&server, &mailbox, &token, &email).await;
    let (hash, _) = login_challenge(&server, &email).await;

    server
        .post(
            "/mfa/choose",
            None,
            json!({ "hash": "not-a-hash", "strategy": "EMAIL" }),
        )
        .await
        .assert_problem(401, "invalid_hash");
    server
        .post("/mfa/choose", None, json!({ "hash": hash, "strategy": "TOTP" }))
        .await
        .assert_problem(400, "strategy_not_listed");
    server
        .post("/mfa/choose", None, json!({ "hash": hash, "strategy": "SMOKE" }))
        .await
        .assert_problem(400, "validation_failed");
    server
        .post("/mfa/choose", None, json!({ "hash": hash }))
        .await
        .assert_problem(400, "validation_failed");
    submit(&server, "not-a-hash", "123456")
        .await
        .assert_problem(401, "invalid_hash");
    // The refused choices did not use the hash up.
    let code_hash = choose(&server, &hash, "EMAIL").await;
    assert!(!code_hash.is_empty());
    server.stop().await;
}

async fn factors_are_managed_by_their_owner_or_an_admin(backend: Backend) {
    let mailbox = Mailbox::default();
    let smtp = SmtpServer::start(0, mailbox.clone()).await;
    let twilio = FakeTwilio::start().await;
    let (server, admin) = backend.start_with_admin(|c| configure(c, &smtp.url(), &twilio)).await;
    let (email, token) = user_with(&server, Some(&random_phone())).await;
    let (_, other) = user_with(&server, None).await;
    let user_id = server.get("/user/me", Some(&token)).await.body["id"].clone();

    server
        .post("/mfa", Some(&other), json!({ "strategy": "EMAIL", "userId": user_id }))
        .await
        .assert_problem(403, "forbidden");
    let by_admin = enrol(&server, &admin, json!({ "strategy": "EMAIL", "userId": user_id })).await;
    let code = mailbox.wait_for(&email, 0, WAIT).await.code();
    validate(&server, &other, &by_admin["mfaId"], &code)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(validate(&server, &token, &by_admin["mfaId"], &code).await.status, 200);

    let id = by_admin["mfaId"].as_str().unwrap();
    server
        .request(Method::DELETE, &format!("/mfa/{id}"), Some(&other), None)
        .await
        .assert_problem(404, "not_found");
    let deleted = server
        .request(Method::DELETE, &format!("/mfa/{id}"), Some(&token), None)
        .await;
    assert_eq!(deleted.status, 204);
    let plain = server
        .post("/login", None, json!({ "email": email, "password": PASSWORD }))
        .await;
    assert!(
        plain.body["token"].is_string(),
        "no factor left, so no challenge: {}",
        plain.body
    );
    server.stop().await;
}

/// ASVS 3.7.1: a bearer token alone, past the re-authentication window, removes no factor
/// and moves no e-mail; `POST /login/confirm` renews the window, and its wrong passwords
/// (like those of `DELETE /user/me`) are throttled like `/login`.
async fn sensitive_changes_need_a_recent_sign_in(backend: Backend) {
    let smtp = SmtpServer::start(0, Mailbox::default()).await;
    let twilio = FakeTwilio::start().await;
    let (server, clock) = backend
        .start_on_clock(|c| {
            configure(c, &smtp.url(), &twilio);
            c.reauth_window_secs = 1;
        })
        .await;
    let now = || authd::ports::Clock::unix_now(clock.as_ref()) as u64;
    let (email, token) = user_with(&server, None).await;
    let enrolled = enrol(&server, &token, json!({ "strategy": "TOTP" })).await;
    let totp = totp_of(enrolled["secret"].as_str().unwrap());
    assert_eq!(
        validate(&server, &token, &enrolled["mfaId"], &totp.generate(now()))
            .await
            .status,
        200
    );
    clock.advance(2);
    let id = enrolled["mfaId"].as_str().unwrap();
    let path = format!("/mfa/{id}");
    let remove = || server.request(Method::DELETE, &path, Some(&token), None);
    remove().await.assert_problem(403, "reauthentication_required");
    server
        .patch("/user", Some(&token), json!({ "email": "mallory@example.com" }))
        .await
        .assert_problem(403, "reauthentication_required");
    let renamed = server.patch("/user", Some(&token), json!({ "name": "Still Me" })).await;
    assert_eq!(renamed.status, 200, "other changes need no confirmation");
    assert_eq!(
        server.get("/mfa", Some(&token)).await.body["list"][0]["id"],
        id,
        "nothing removed"
    );

    let confirm = |body: Value| server.post("/login/confirm", Some(&token), body);
    confirm(json!({ "password": PASSWORD, "code": "123456" }))
        .await
        .assert_problem(400, "validation_failed");
    confirm(json!({ "code": totp.generate(now() + 3_600) }))
        .await
        .assert_problem(401, "invalid_code");
    let by_app = confirm(json!({ "code": totp.generate(now() + 30) })).await;
    assert_eq!(by_app.status, 200, "{}", by_app.body);
    assert_eq!(remove().await.status, 204, "confirmed by the app, so the factor goes");
    confirm(json!({ "code": totp.generate(now()) }))
        .await
        .assert_problem(400, "strategy_not_listed");

    clock.advance(2);
    let change = || server.patch("/user", Some(&token), json!({ "email": "new-me@example.com" }));
    change().await.assert_problem(403, "reauthentication_required");
    confirm(json!({ "password": "not-the-password" }))
        .await
        .assert_problem(401, "invalid_credentials");
    assert_eq!(confirm(json!({ "password": PASSWORD })).await.status, 200);
    assert_eq!(
        change().await.status,
        200,
        "confirmed by password, so the e-mail changes"
    );
    assert_ne!(server.get("/user/me", Some(&token)).await.body["email"], email.as_str());

    let mut statuses = Vec::new();
    for _ in 0..8 {
        let guess = server
            .post("/login/confirm", Some(&token), json!({ "password": "wrong-guess-1" }))
            .await;
        statuses.push(guess.status.as_u16());
    }
    assert!(statuses.contains(&429), "confirmations are throttled: {statuses:?}");
    let mut deletions = Vec::new();
    for _ in 0..3 {
        let guess = server
            .request(
                Method::DELETE,
                "/user/me",
                Some(&token),
                Some(json!({ "password": "wrong-guess-2" })),
            )
            .await;
        deletions.push(guess.status.as_u16());
    }
    assert!(
        deletions.contains(&429),
        "deletion guesses share the throttle: {deletions:?}"
    );
}

async fn a_changed_phone_disables_the_phone_factor(backend: Backend) {
    let Env {
        server, twilio, _smtp, ..
    } = env(&backend).await;
    let phone = random_phone();
    let (_, token) = user_with(&server, Some(&phone)).await;
    let enrolled = enrol(&server, &token, json!({ "strategy": "PHONE" })).await;
    validate(
        &server,
        &token,
        &enrolled["mfaId"],
        &twilio.wait_for(&phone, 0).await.code(),
    )
    .await;
    assert_eq!(server.get("/mfa", Some(&token)).await.body["list"][0]["enabled"], true);
    server
        .patch("/user", Some(&token), json!({ "phone": random_phone() }))
        .await;
    assert_eq!(server.get("/mfa", Some(&token)).await.body["list"][0]["enabled"], false);
    server.stop().await;
}

async fn mail_queued_while_smtp_is_down_arrives_when_it_returns_even_after_a_restart(backend: Backend) {
    let port = crate::common::smtp::free_port();
    let smtp_url = format!("smtp://127.0.0.1:{port}");
    let twilio = FakeTwilio::start().await;
    let server = backend.start_with(|c| configure(c, &smtp_url, &twilio)).await;
    let (email, token) = user_with(&server, None).await;
    let enrolled = server.post("/mfa", Some(&token), json!({ "strategy": "EMAIL" })).await;
    assert_eq!(
        enrolled.status, 201,
        "the API answers while SMTP is down: {}",
        enrolled.body
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.stop().await;

    let restarted = backend.start_with(|c| configure(c, &smtp_url, &twilio)).await;
    let mailbox = Mailbox::default();
    let _smtp = SmtpServer::start(port, mailbox.clone()).await;
    let mail = mailbox.wait_for(&email, 0, Duration::from_secs(10)).await;
    let validated = validate(&restarted, &token, &enrolled.body["mfaId"], &mail.code()).await;
    assert_eq!(validated.status, 200, "{}", validated.body);
    restarted.stop().await;
}

async fn transient_twilio_failures_are_retried_and_permanent_ones_are_not(backend: Backend) {
    let Env {
        server, twilio, _smtp, ..
    } = env(&backend).await;
    twilio.fail_next.lock().extend([500, 503]);
    let phone = random_phone();
    let (_, token) = user_with(&server, Some(&phone)).await;
    enrol(&server, &token, json!({ "strategy": "PHONE" })).await;
    let sms = twilio.wait_for(&phone, 0).await;
    assert_eq!(sms.code().len(), 6);
    assert_eq!(*twilio.calls.lock(), 3, "two failures, then delivered");

    twilio.fail_next.lock().push(400);
    let calls_before = *twilio.calls.lock();
    let other_phone = random_phone();
    let (_, other) = user_with(&server, Some(&other_phone)).await;
    enrol(&server, &other, json!({ "strategy": "PHONE" })).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        *twilio.calls.lock(),
        calls_before + 1,
        "a permanent failure is not retried"
    );
    assert!(twilio.messages.lock().iter().all(|m| m.to != other_phone));
    server.stop().await;
}

backend_tests!(
    email_factor_from_enrolment_to_login,
    a_validated_factor_cannot_be_enrolled_again,
    phone_codes_travel_by_sms_and_whatsapp,
    totp_enrolment_and_login_never_accept_a_step_twice,
    recovery_codes_work_once_and_a_new_set_replaces_the_old,
    five_wrong_codes_void_the_login_challenge_even_in_parallel,
    five_wrong_codes_void_the_enrolment,
    wrong_codes_back_off_per_user_and_client_across_challenges,
    choose_and_code_refuse_bad_input,
    factors_are_managed_by_their_owner_or_an_admin,
    a_changed_phone_disables_the_phone_factor,
    sensitive_changes_need_a_recent_sign_in,
    mail_queued_while_smtp_is_down_arrives_when_it_returns_even_after_a_restart,
    transient_twilio_failures_are_retried_and_permanent_ones_are_not,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis: `make test` runs it when they answer"]
async fn each_mfa_step_may_land_on_another_instance() {
    let backend = Backend::postgres_redis().await;
    let mailbox = Mailbox::default();
    let smtp = SmtpServer::start(0, mailbox.clone()).await;
    let twilio = FakeTwilio::start().await;
    let a = backend.start_with(|c| configure(c, &smtp.url(), &twilio)).await;
    let b = backend.start_with(|c| configure(c, &smtp.url(), &twilio)).await;
    let (email, token) = user_with(&a, None).await;
    let enrolled = enrol(&a, &token, json!({ "strategy": "EMAIL" })).await;
    validate(
        &b,
        &token,
        &enrolled["mfaId"],
        &mailbox.wait_for(&email, 0, WAIT).await.code(),
    )
    .await;

    let (hash, _) = login_challenge(&a, &email).await;
    let code_hash = choose(&b, &hash, "EMAIL").await;
    let code = mailbox.wait_for(&email, 1, WAIT).await.code();
    assert_eq!(submit(&a, &code_hash, &code).await.status, 200);
    a.stop().await;
    b.stop().await;
}
