//! Throttling: exponential backoff per account and client address, budgets per account and
//! per address, sign-up and reset-request limits, parallel guesses, and one limit across
//! two instances. Clients are told apart by `X-Forwarded-For`, which the server trusts here
//! because `AUTH_CLIENT_IP_HEADER` names it (as behind a reverse proxy).

use crate::common::{answer, Answer, Backend, TestServer, PASSWORD};
use serde_json::{json, Value};
use uuid::Uuid;

const ATTACKER: &str = "203.0.113.66";
const REAL_USER: &str = "198.51.100.7";

fn behind_proxy(config: &mut authd::config::Config) {
    config.client_ip_header = Some("X-Forwarded-For".into());
}

async fn post_from(server: &TestServer, client: &str, path: &str, body: Value) -> Answer {
    let request = server
        .http
        .post(server.url(path))
        .header("X-Forwarded-For", format!("10.9.9.9, {client}"))
        .json(&body);
    answer(request.send().await.expect("request sent")).await
}

async fn login_from(server: &TestServer, client: &str, email: &str, password: &str) -> Answer {
    post_from(
        server,
        client,
        "/login",
        json!({ "email": email, "password": password }),
    )
    .await
}

fn retry_after(answer: &Answer) -> u64 {
    answer.headers["retry-after"].to_str().unwrap().parse().unwrap()
}

fn new_email() -> String {
    format!("throttle-{}@example.com", Uuid::new_v4().simple())
}

async fn an_attacker_backs_off_while_the_real_user_still_logs_in(backend: Backend) {
    let server = backend
        .start_with(|c| {
            behind_proxy(c);
            c.throttle_free_failures = 3;
            c.throttle_backoff_base_ms = 60_000;
        })
        .await;
    let email = new_email();
    server.sign_up("Target", &email).await;
    for _ in 0..3 {
        login_from(&server, ATTACKER, &email, "wrong password")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    // Even the right password waits now, from the attacker's address.
    let refused = login_from(&server, ATTACKER, &email, PASSWORD).await;
    refused.assert_problem(429, "rate_limited");
    assert!((50..=60).contains(&retry_after(&refused)), "{}", retry_after(&refused));

    let real = login_from(&server, REAL_USER, &email, PASSWORD).await;
    assert_eq!(real.status, 200, "{}", real.body);
    server.stop().await;
}

async fn parallel_guesses_cannot_exceed_the_free_failures(backend: Backend) {
    let server = backend
        .start_with(|c| {
            behind_proxy(c);
            c.throttle_free_failures = 3;
        })
        .await;
    let email = new_email();
    server.sign_up("Target", &email).await;
    let guesses = (0..16).map(|_| login_from(&server, ATTACKER, &email, "wrong password"));
    let answers = futures::future::join_all(guesses).await;
    let judged = answers.iter().filter(|a| a.status == 401).count();
    let refused = answers.iter().filter(|a| a.status == 429).count();
    assert_eq!(judged, 3, "guesses compared");
    assert_eq!(refused, 13);
    server.stop().await;
}

async fn one_address_guessing_many_accounts_is_limited(backend: Backend) {
    let server = backend
        .start_with(|c| {
            behind_proxy(c);
            c.throttle_ip_failures = 4;
        })
        .await;
    for _ in 0..4 {
        login_from(&server, ATTACKER, &new_email(), "wrong password")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    login_from(&server, ATTACKER, &new_email(), "wrong password")
        .await
        .assert_problem(429, "rate_limited");
    login_from(&server, REAL_USER, &new_email(), "wrong password")
        .await
        .assert_problem(401, "invalid_credentials");
    server.stop().await;
}

async fn one_account_guessed_from_many_addresses_is_limited(backend: Backend) {
    let server = backend
        .start_with(|c| {
            behind_proxy(c);
            c.throttle_account_failures = 4;
        })
        .await;
    let email = new_email();
    server.sign_up("Target", &email).await;
    for i in 0..4 {
        login_from(&server, &format!("192.0.2.{i}"), &email, "wrong password")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    login_from(&server, "192.0.2.99", &email, "wrong password")
        .await
        .assert_problem(429, "rate_limited");
    server.stop().await;
}

async fn sign_ups_and_reset_requests_are_limited_per_address(backend: Backend) {
    let server = backend
        .start_with(|c| {
            behind_proxy(c);
            c.throttle_ip_requests = 3;
        })
        .await;
    let sign_up = |email: String| json!({ "name": "New", "email": email, "password": PASSWORD });
    for _ in 0..3 {
        let created = post_from(&server, ATTACKER, "/user", sign_up(new_email())).await;
        assert_eq!(created.status, 201, "{}", created.body);
    }
    let refused = post_from(&server, ATTACKER, "/user", sign_up(new_email())).await;
    refused.assert_problem(429, "rate_limited");
    assert!((1..=900).contains(&retry_after(&refused)));
    let elsewhere = post_from(&server, REAL_USER, "/user", sign_up(new_email())).await;
    assert_eq!(elsewhere.status, 201, "{}", elsewhere.body);

    for _ in 0..3 {
        let accepted = post_from(&server, ATTACKER, "/password/forget", json!({ "email": new_email() })).await;
        assert_eq!(accepted.status, 202, "{}", accepted.body);
    }
    post_from(&server, ATTACKER, "/password/forget", json!({ "email": new_email() }))
        .await
        .assert_problem(429, "rate_limited");
    server.stop().await;
}

async fn reset_requests_for_one_address_are_limited_whoever_asks(backend: Backend) {
    let server = backend
        .start_with(|c| {
            behind_proxy(c);
            c.throttle_account_requests = 2;
        })
        .await;
    let email = new_email();
    for client in ["192.0.2.1", "192.0.2.2"] {
        let accepted = post_from(&server, client, "/password/forget", json!({ "email": email })).await;
        assert_eq!(accepted.status, 202, "{}", accepted.body);
    }
    post_from(&server, "192.0.2.3", "/password/forget", json!({ "email": email }))
        .await
        .assert_problem(429, "rate_limited");
    server.stop().await;
}

async fn a_wrong_current_password_backs_off_the_password_change(backend: Backend) {
    let server = backend
        .start_with(|c| {
            c.throttle_free_failures = 2;
            c.throttle_backoff_base_ms = 60_000;
        })
        .await;
    let (_, _, token) = server.new_session().await;
    let change = |current: &str| json!({ "currentPassword": current, "newPassword": "a fresh and long passphrase 42" });
    for _ in 0..2 {
        server
            .patch("/user/password", Some(&token), change("wrong password"))
            .await
            .assert_problem(401, "invalid_credentials");
    }
    server
        .patch("/user/password", Some(&token), change(PASSWORD))
        .await
        .assert_problem(429, "rate_limited");
    server.stop().await;
}

backend_tests!(
    an_attacker_backs_off_while_the_real_user_still_logs_in,
    parallel_guesses_cannot_exceed_the_free_failures,
    one_address_guessing_many_accounts_is_limited,
    one_account_guessed_from_many_addresses_is_limited,
    sign_ups_and_reset_requests_are_limited_per_address,
    reset_requests_for_one_address_are_limited_whoever_asks,
    a_wrong_current_password_backs_off_the_password_change,
);

/// Two instances on one PostgreSQL and Redis enforce one account budget: guesses spread
/// over both, in parallel, still stop at the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis: `make test` runs it when they answer"]
async fn one_accounts_limit_holds_across_two_instances() {
    let backend = Backend::postgres_redis().await;
    let adjust = |c: &mut authd::config::Config| {
        behind_proxy(c);
        c.throttle_account_failures = 6;
    };
    let a = backend.start_with(adjust).await;
    let b = backend.start_with(adjust).await;
    let email = new_email();
    a.sign_up("Target", &email).await;
    let guesses = (0..20).map(|i| {
        let (server, email) = (if i % 2 == 0 { &a } else { &b }, email.clone());
        async move { login_from(server, &format!("192.0.2.{i}"), &email, "wrong password").await }
    });
    let answers = futures::future::join_all(guesses).await;
    assert_eq!(answers.iter().filter(|a| a.status == 401).count(), 6);
    assert_eq!(answers.iter().filter(|a| a.status == 429).count(), 14);
    login_from(&b, REAL_USER, &email, PASSWORD)
        .await
        .assert_problem(429, "rate_limited");
    a.stop().await;
    b.stop().await;
}
