//! Passkeys: enrolment, second factor, passwordless sign-in, several per account, removal,
//! and every check (origin, RP ID, challenge, signature, sign counter), driven by a software
//! authenticator that answers in the JSON a browser sends.

use std::time::{Duration, Instant};

use crate::common::passkey::{SoftPasskey, Twist};
use crate::common::{Backend, TestServer, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

const ORIGIN: &str = "https://auth.example.com";

async fn start(backend: &Backend) -> TestServer {
    backend.start_with(|c| c.public_url = ORIGIN.into()).await
}

/// Enrols a passkey named `name` for the holder of `token` on `server` (the options) and
/// `finish_on` (the response); returns it and its id.
async fn enrol(server: &TestServer, finish_on: &TestServer, token: &str, name: &str) -> (SoftPasskey, String) {
    let started = server
        .post("/mfa", Some(token), json!({ "strategy": "PASSKEY", "name": name }))
        .await;
    assert_eq!(started.status, 201, "{}", started.body);
    let id = started.body["mfaId"].as_str().unwrap().to_owned();
    let (passkey, response) = SoftPasskey::create(&started.body["publicKey"], ORIGIN, &Twist::default());
    let validated = finish_on
        .post(
            "/mfa/validate",
            Some(token),
            json!({ "id": id, "credential": response }),
        )
        .await;
    assert_eq!(validated.status, 200, "{}", validated.body);
    (passkey, id)
}

/// Logs in with the password and chooses PASSKEY on `server`; returns the code hash and the
/// request options.
async fn choose_passkey(server: &TestServer, email: &str) -> (String, Value) {
    let login = server
        .post("/login", None, json!({ "email": email, "password": PASSWORD }))
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let strategies = login.body["strategyList"].as_array().expect("MFA is asked for");
    assert!(strategies.contains(&json!("PASSKEY")), "{strategies:?}");
    let chosen = server
        .post(
            "/mfa/choose",
            None,
            json!({ "hash": login.body["hash"], "strategy": "PASSKEY" }),
        )
        .await;
    assert_eq!(chosen.status, 200, "{}", chosen.body);
    (
        chosen.body["hash"].as_str().unwrap().to_owned(),
        chosen.body["publicKey"].clone(),
    )
}

/// A passwordless sign-in on `server` with the assertion `sign` makes from the options.
async fn sign_in(server: &TestServer, sign: impl FnOnce(&Value) -> Value) -> crate::common::Answer {
    let started = server.post("/login/passkey", None, json!({})).await;
    assert_eq!(started.status, 200, "{}", started.body);
    let assertion = sign(&started.body["publicKey"]);
    server
        .post(
            "/login/passkey/finish",
            None,
            json!({ "hash": started.body["hash"], "credential": assertion }),
        )
        .await
}

/// Whether any member of `value` is `null` (a browser's JSON parsers refuse those).
fn has_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.iter().any(has_null),
        Value::Object(members) => members.values().any(has_null),
        _ => false,
    }
}

async fn a_passkey_is_enrolled_and_answers_the_second_factor(backend: Backend) {
    let server = start(&backend).await;
    let (_, email, token) = server.new_session().await;
    let started = server
        .post("/mfa", Some(&token), json!({ "strategy": "PASSKEY" }))
        .await;
    let options = &started.body["publicKey"];
    assert!(
        !has_null(options),
        "parseCreationOptionsFromJSON takes it as it is: {options}"
    );
    assert_eq!(options["rp"]["id"], "auth.example.com");
    assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(options["authenticatorSelection"]["userVerification"], "required");
    assert!(
        options["challenge"].as_str().is_some_and(|c| c.len() >= 43),
        "{options}"
    );

    let (mut passkey, id) = enrol(&server, &server, &token, "Laptop").await;
    let factors = server.get("/mfa", Some(&token)).await;
    let listed = factors.body["list"].as_array().unwrap();
    let entry = listed.iter().find(|f| f["id"] == id.as_str()).expect("listed");
    assert_eq!(entry["strategy"], "PASSKEY");
    assert_eq!(entry["name"], "Laptop");
    assert_eq!(entry["enabled"], true);
    let me = server.get("/user/me", Some(&token)).await;
    assert!(me.body["mfa"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["id"] == id.as_str()));

    let (hash, options) = choose_passkey(&server, &email).await;
    assert!(
        !has_null(&options),
        "parseRequestOptionsFromJSON takes it as it is: {options}"
    );
    let allowed = options["allowCredentials"].as_array().unwrap();
    assert_eq!(allowed.len(), 1);
    let assertion = passkey.get(&options, ORIGIN, &Twist::default());
    let signed_in = server
        .post("/mfa/code", None, json!({ "hash": hash, "credential": assertion }))
        .await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    let new_token = signed_in.token();
    let events = server.get("/user/events", Some(&new_token)).await;
    let latest = &events.body["list"][0];
    assert_eq!(latest["type"], "login.succeeded");
    assert_eq!(latest["data"]["method"], "PASSKEY");
    let replay = server
        .post("/mfa/code", None, json!({ "hash": hash, "credential": assertion }))
        .await;
    replay.assert_problem(401, "invalid_hash");
}

async fn an_account_holds_several_passkeys_and_removes_one(backend: Backend) {
    let server = start(&backend).await;
    let (_, email, token) = server.new_session().await;
    let (mut laptop, laptop_id) = enrol(&server, &server, &token, "Laptop").await;
    let (mut phone, _) = enrol(&server, &server, &token, "Phone").await;
    let listed = server.get("/mfa", Some(&token)).await.body["list"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(listed, 2);

    let (hash, options) = choose_passkey(&server, &email).await;
    assert_eq!(options["allowCredentials"].as_array().unwrap().len(), 2);
    let by_phone = phone.get(&options, ORIGIN, &Twist::default());
    let answer = server
        .post("/mfa/code", None, json!({ "hash": hash, "credential": by_phone }))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    let removed = server
        .request(Method::DELETE, &format!("/mfa/{laptop_id}"), Some(&token), None)
        .await;
    assert_eq!(removed.status, 204);
    let (hash, options) = choose_passkey(&server, &email).await;
    assert_eq!(options["allowCredentials"].as_array().unwrap().len(), 1);
    let by_laptop = laptop.get(&options, ORIGIN, &Twist::default());
    let refused = server
        .post("/mfa/code", None, json!({ "hash": hash, "credential": by_laptop }))
        .await;
    refused.assert_problem(401, "invalid_code");
}

/// A registration waiting for the authenticator is listed as a PASSKEY factor not yet
/// enabled, as other strategies' pending factors are; removing it withdraws it.
async fn a_pending_passkey_is_listed_until_answered_and_can_be_withdrawn(backend: Backend) {
    let server = start(&backend).await;
    let (_, _, token) = server.new_session().await;
    let listed = |body: Value| -> Vec<(String, String, bool)> {
        body["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let id = f["id"].as_str().unwrap().to_owned();
                (id, f["strategy"].as_str().unwrap().to_owned(), f["enabled"] == true)
            })
            .collect()
    };
    let started = server
        .post("/mfa", Some(&token), json!({ "strategy": "PASSKEY", "name": "Laptop" }))
        .await;
    let id = started.body["mfaId"].as_str().unwrap().to_owned();
    let factors = listed(server.get("/mfa", Some(&token)).await.body);
    assert_eq!(factors, [(id.clone(), "PASSKEY".to_owned(), false)]);

    let (_, response) = SoftPasskey::create(&started.body["publicKey"], ORIGIN, &Twist::default());
    let answered = server
        .post(
            "/mfa/validate",
            Some(&token),
            json!({ "id": id, "credential": response }),
        )
        .await;
    assert_eq!(answered.status, 200, "{}", answered.body);
    let factors = listed(server.get("/mfa", Some(&token)).await.body);
    assert_eq!(factors, [(id.clone(), "PASSKEY".to_owned(), true)]);

    let second = server
        .post("/mfa", Some(&token), json!({ "strategy": "PASSKEY", "name": "Phone" }))
        .await;
    let second_id = second.body["mfaId"].as_str().unwrap().to_owned();
    assert_eq!(listed(server.get("/mfa", Some(&token)).await.body).len(), 2);
    let withdrawn = server
        .request(Method::DELETE, &format!("/mfa/{second_id}"), Some(&token), None)
        .await;
    assert_eq!(withdrawn.status, 204);
    let (_, late) = SoftPasskey::create(&second.body["publicKey"], ORIGIN, &Twist::default());
    server
        .post(
            "/mfa/validate",
            Some(&token),
            json!({ "id": second_id, "credential": late }),
        )
        .await
        .assert_problem(401, "invalid_passkey");
    let factors = listed(server.get("/mfa", Some(&token)).await.body);
    assert_eq!(factors, [(id, "PASSKEY".to_owned(), true)]);
}

async fn a_passkey_alone_signs_in_without_a_password(backend: Backend) {
    let server = start(&backend).await;
    let (id, _, token) = server.new_session().await;
    let (mut passkey, _) = enrol(&server, &server, &token, "Laptop").await;

    let started = server.post("/login/passkey", None, json!({})).await;
    assert_eq!(started.status, 200, "{}", started.body);
    let options = &started.body["publicKey"];
    assert!(
        options["allowCredentials"].as_array().is_none_or(|a| a.is_empty()),
        "{options}"
    );
    assert_eq!(options["userVerification"], "required");
    let hash = started.body["hash"].as_str().unwrap();
    let assertion = passkey.get(options, ORIGIN, &Twist::default());
    let signed_in = server
        .post(
            "/login/passkey/finish",
            None,
            json!({ "hash": hash, "credential": assertion }),
        )
        .await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    assert_eq!(signed_in.body["id"], id.as_str());
    let replay = server
        .post(
            "/login/passkey/finish",
            None,
            json!({ "hash": hash, "credential": assertion }),
        )
        .await;
    replay.assert_problem(401, "invalid_hash");
    let unknown = server
        .post(
            "/login/passkey/finish",
            None,
            json!({ "hash": "nope", "credential": assertion }),
        )
        .await;
    unknown.assert_problem(401, "invalid_hash");
    let not_json = server
        .post(
            "/login/passkey/finish",
            None,
            json!({ "hash": hash, "credential": "text" }),
        )
        .await;
    assert_eq!(not_json.status.as_u16() / 100, 4);
}

async fn wrong_origins_rp_ids_keys_and_replays_are_refused(backend: Backend) {
    // Enough free failures for every refusal below (throttling has a test of its own).
    let server = backend
        .start_with(|c| {
            c.public_url = ORIGIN.into();
            c.throttle_free_failures = 100;
        })
        .await;
    let (_, _, token) = server.new_session().await;
    for twist in [
        Twist {
            origin: Some("https://evil.example.com".into()),
            ..Twist::default()
        },
        Twist {
            rp_id: Some("evil.example.com".into()),
            ..Twist::default()
        },
    ] {
        let started = server
            .post("/mfa", Some(&token), json!({ "strategy": "PASSKEY" }))
            .await;
        let id = started.body["mfaId"].as_str().unwrap();
        let (_, response) = SoftPasskey::create(&started.body["publicKey"], ORIGIN, &twist);
        let refused = server
            .post(
                "/mfa/validate",
                Some(&token),
                json!({ "id": id, "credential": response }),
            )
            .await;
        refused.assert_problem(401, "invalid_passkey");
    }
    // A registration answers its challenge once.
    let started = server
        .post("/mfa", Some(&token), json!({ "strategy": "PASSKEY" }))
        .await;
    let id = started.body["mfaId"].as_str().unwrap();
    let (passkey, response) = SoftPasskey::create(&started.body["publicKey"], ORIGIN, &Twist::default());
    let body = json!({ "id": id, "credential": response });
    assert_eq!(
        server.post("/mfa/validate", Some(&token), body.clone()).await.status,
        200
    );
    server
        .post("/mfa/validate", Some(&token), body)
        .await
        .assert_problem(401, "invalid_passkey");
    assert_eq!(
        server.get("/mfa", Some(&token)).await.body["list"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Sign-in: wrong origin, wrong RP ID, another key with the same credential id, the user
    // present but not verified, verified but not present.
    for (twist, signer) in [
        (
            Twist {
                origin: Some("https://evil.example.com".into()),
                ..Twist::default()
            },
            None,
        ),
        (
            Twist {
                rp_id: Some("evil.example.com".into()),
                ..Twist::default()
            },
            None,
        ),
        (Twist::default(), Some(passkey.impostor())),
        (
            Twist {
                flags: Some(0x01),
                ..Twist::default()
            },
            None,
        ),
        (
            Twist {
                flags: Some(0x04),
                ..Twist::default()
            },
            None,
        ),
    ] {
        let refused = sign_in(&server, |options| match &signer {
            Some(impostor) => impostor.assert_with_counter(options, ORIGIN, &twist, 1),
            None => passkey.assert_with_counter(options, ORIGIN, &twist, 1),
        })
        .await;
        refused.assert_problem(401, "invalid_credentials");
    }
    // The same passkey, answering as it should, still signs in.
    let accepted = sign_in(&server, |options| {
        passkey.assert_with_counter(options, ORIGIN, &Twist::default(), 1)
    })
    .await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
}

async fn a_sign_counter_going_backwards_disables_the_passkey(backend: Backend) {
    let server = start(&backend).await;
    let (_, _, token) = server.new_session().await;
    let (passkey, id) = enrol(&server, &server, &token, "Cloned").await;
    let with_counter = |counter: u32| {
        let passkey = &passkey;
        move |options: &Value| passkey.assert_with_counter(options, ORIGIN, &Twist::default(), counter)
    };
    assert_eq!(sign_in(&server, with_counter(5)).await.status, 200);
    sign_in(&server, with_counter(3))
        .await
        .assert_problem(401, "invalid_credentials");
    sign_in(&server, with_counter(6))
        .await
        .assert_problem(401, "invalid_credentials");
    let factors = server.get("/mfa", Some(&token)).await;
    let entry = factors.body["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(entry["enabled"], false, "a cloned passkey is disabled");
    let events = server.get("/user/events", Some(&token)).await;
    let cloned = events.body["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["data"]["reason"] == "counter_regressed")
        .cloned()
        .expect("an event for the regression");
    assert_eq!(cloned["type"], "mfa.failed");
    assert_eq!(cloned["data"]["factorId"], id.as_str());
}

async fn the_same_credential_cannot_be_registered_twice(backend: Backend) {
    let server = start(&backend).await;
    let (_, _, token) = server.new_session().await;
    let (passkey, _) = enrol(&server, &server, &token, "Laptop").await;
    let again = server
        .post("/mfa", Some(&token), json!({ "strategy": "PASSKEY" }))
        .await;
    let excluded = again.body["publicKey"]["excludeCredentials"].as_array().unwrap().len();
    assert_eq!(excluded, 1, "the browser is told which credential the account holds");
    let response = passkey.attest(&again.body["publicKey"], ORIGIN, &Twist::default());
    server
        .post(
            "/mfa/validate",
            Some(&token),
            json!({ "id": again.body["mfaId"], "credential": response }),
        )
        .await
        .assert_problem(409, "factor_exists");
    // Another account cannot claim it either.
    let (_, _, other) = server.new_session().await;
    let theirs = server
        .post("/mfa", Some(&other), json!({ "strategy": "PASSKEY" }))
        .await;
    let response = passkey.attest(&theirs.body["publicKey"], ORIGIN, &Twist::default());
    let claimed = server
        .post(
            "/mfa/validate",
            Some(&other),
            json!({ "id": theirs.body["mfaId"], "credential": response }),
        )
        .await;
    claimed.assert_problem(409, "factor_exists");
    assert_eq!(server.get("/mfa", Some(&other)).await.body["list"], json!([]));
    let bad_name = server
        .post(
            "/mfa",
            Some(&token),
            json!({ "strategy": "PASSKEY", "name": "x".repeat(65) }),
        )
        .await;
    bad_name.assert_problem(400, "validation_failed");
    let neither = server
        .post("/mfa/validate", Some(&token), json!({ "id": again.body["mfaId"] }))
        .await;
    neither.assert_problem(400, "validation_failed");
}

async fn failed_passkey_sign_ins_are_throttled_like_logins(backend: Backend) {
    let server = start(&backend).await;
    let (_, _, token) = server.new_session().await;
    let (passkey, _) = enrol(&server, &server, &token, "Laptop").await;
    let impostor = passkey.impostor();
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let answer = sign_in(&server, |options| {
            impostor.assert_with_counter(options, ORIGIN, &Twist::default(), 1)
        })
        .await;
        statuses.push(answer.status.as_u16());
    }
    assert_eq!(statuses[..5], [401; 5]);
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
}

backend_tests!(
    failed_passkey_sign_ins_are_throttled_like_logins,
    a_passkey_is_enrolled_and_answers_the_second_factor,
    an_account_holds_several_passkeys_and_removes_one,
    a_pending_passkey_is_listed_until_answered_and_can_be_withdrawn,
    a_passkey_alone_signs_in_without_a_password,
    wrong_origins_rp_ids_keys_and_replays_are_refused,
    a_sign_counter_going_backwards_disables_the_passkey,
    the_same_credential_cannot_be_registered_twice,
);

/// Each ceremony may start on one instance and finish on another (shared cache).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis: `make test` runs it when they answer"]
async fn ceremonies_started_on_one_instance_finish_on_another() {
    let backend = Backend::postgres_redis().await;
    let (first, second) = (start(&backend).await, start(&backend).await);
    let (_, email, token) = first.new_session().await;
    let (mut passkey, _) = enrol(&first, &second, &token, "Laptop").await;
    let (hash, options) = choose_passkey(&first, &email).await;
    let assertion = passkey.get(&options, ORIGIN, &Twist::default());
    let answer = second
        .post("/mfa/code", None, json!({ "hash": hash, "credential": assertion }))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let started = second.post("/login/passkey", None, json!({})).await;
    let assertion = passkey.get(&started.body["publicKey"], ORIGIN, &Twist::default());
    let signed_in = first
        .post(
            "/login/passkey/finish",
            None,
            json!({ "hash": started.body["hash"], "credential": assertion }),
        )
        .await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
}

/// Times passwordless sign-ins (both requests); run on purpose, it asserts nothing of
/// speed: `cargo test --release --features fault-injection --test it -- --ignored --exact passkeys::time_passwordless_sign_ins --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a timing run, not a test: see docs/PERFORMANCE.md"]
async fn time_passwordless_sign_ins() {
    let backend = Backend::sqlite();
    let server = start(&backend).await;
    let (_, _, token) = server.new_session().await;
    let (mut passkey, _) = enrol(&server, &server, &token, "Laptop").await;
    let mut took = Vec::new();
    for _ in 0..200 {
        let began = Instant::now();
        let started = server.post("/login/passkey", None, json!({})).await;
        let assertion = passkey.get(&started.body["publicKey"], ORIGIN, &Twist::default());
        let signed_in = server
            .post(
                "/login/passkey/finish",
                None,
                json!({ "hash": started.body["hash"], "credential": assertion }),
            )
            .await;
        assert_eq!(signed_in.status, 200);
        took.push(began.elapsed());
    }
    took.sort();
    let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
    println!(
        "passwordless sign-in (both requests, incl. the software authenticator): median {:?}, p95 {:?}, p99 {:?}",
        at(0.5),
        at(0.95),
        at(0.99)
    );
    let _ = Duration::ZERO;
}
