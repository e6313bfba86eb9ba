//! Actor faults, through the test-only hook (feature `fault-injection`): a panicking actor
//! is restarted by the supervisor and the restart shows in `/metrics`; a stalled actor
//! costs callers a 503 after the call timeout, never an endless wait.

use std::time::Duration;

use crate::common::{eventually, Backend, TestServer, PASSWORD};
use authd::actors::fault::Fault;
use serde_json::json;

const ACTORS: [&str; 4] = ["sessions", "revocations", "notifications", "mfa"];

/// The value of `metric{actor="..."}` in `/metrics`, 0 when absent.
async fn actor_metric(server: &TestServer, metric: &str, actor: &str) -> f64 {
    server.metric(&format!("{metric}{{actor=\"{actor}\"}}")).await
}

async fn a_panicking_actor_is_restarted_and_counted(backend: Backend) {
    let server = backend.start().await;
    let (_, email, token) = server.new_session().await;
    for actor in ACTORS {
        let restarts = actor_metric(&server, "authd_actor_restarts_total", actor).await;
        let failures = actor_metric(&server, "authd_actor_failures_total", actor).await;
        server.server.inject_fault(actor, Fault::Panic).unwrap();
        let counted = eventually(Duration::from_secs(5), || async {
            actor_metric(&server, "authd_actor_restarts_total", actor).await > restarts
                && actor_metric(&server, "authd_actor_failures_total", actor).await > failures
        })
        .await;
        assert!(counted, "the restart of {actor} shows in the metrics");
        let ready = eventually(Duration::from_secs(5), || async {
            server.get("/health/ready", None).await.status == 200
        })
        .await;
        assert!(ready, "ready again after {actor} restarted");
    }

    // The restarted actors do their work: rotate, revoke, open sessions.
    let refreshed = server.get(&format!("/login/refresh/{token}"), None).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let token = refreshed.token();
    assert_eq!(server.post("/logout", Some(&token), json!({})).await.status, 200);
    server
        .get("/user/me", Some(&token))
        .await
        .assert_problem(401, "invalid_token");
    server.login(&email).await;
    server.stop().await;
}

async fn a_stalled_actor_answers_503_instead_of_hanging(backend: Backend) {
    let server = backend.start().await;
    let (_, email, _) = server.new_session().await;
    server
        .server
        .inject_fault("sessions", Fault::Stall(Duration::from_secs(30)))
        .unwrap();
    // The client gives up after 20 s, so an endless wait fails the test.
    let login = server
        .http
        .post(server.url("/login"))
        .timeout(Duration::from_secs(20))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .expect("answered before the client gave up");
    let answer = crate::common::answer(login).await;
    answer.assert_problem(503, "unavailable");
    assert!(answer.headers.contains_key("retry-after"));

    let ready = server.get("/health/ready", None).await;
    ready.assert_problem(503, "not_ready");
    assert!(ready.body["detail"].as_str().unwrap().contains("session actor"));
    server.stop().await;
}

backend_tests!(
    a_panicking_actor_is_restarted_and_counted,
    a_stalled_actor_answers_503_instead_of_hanging
);
