//! Sessions: login, refresh rotation (concurrency, grace, reuse), logout.

use crate::common::{Backend, PASSWORD};
use serde_json::json;

async fn login_returns_a_credential_and_hides_which_part_was_wrong(backend: Backend) {
    let server = backend.start().await;
    let id = server.sign_up("Ivo", "ivo@example.com").await;

    let ok = server
        .post(
            "/login",
            None,
            json!({ "email": "IVO@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["id"], id);
    assert_eq!(ok.body["name"], "Ivo");
    assert_eq!(ok.body["email"], "ivo@example.com");
    assert_eq!(ok.body["expiresIn"], 3600);
    let me = server.get("/user/me", Some(&ok.token())).await;
    assert_eq!(me.status, 200);

    let wrong_password = server
        .post(
            "/login",
            None,
            json!({ "email": "ivo@example.com", "password": "not the password" }),
        )
        .await;
    let unknown_email = server
        .post(
            "/login",
            None,
            json!({ "email": "nobody@example.com", "password": "not the password" }),
        )
        .await;
    wrong_password.assert_problem(401, "invalid_credentials");
    unknown_email.assert_problem(401, "invalid_credentials");
    assert_eq!(
        wrong_password.body, unknown_email.body,
        "the two failures must be indistinguishable"
    );

    server
        .post("/login", None, json!({ "email": "ivo@example.com" }))
        .await
        .assert_problem(400, "validation_failed");
    server
        .post("/login", None, json!({ "email": "not-an-email", "password": PASSWORD }))
        .await
        .assert_problem(400, "validation_failed");
    server.stop().await;
}

async fn repeated_login_failures_are_rate_limited(backend: Backend) {
    let server = backend.start_with(|c| c.throttle_free_failures = 3).await;
    server.sign_up("Jo", "jo@example.com").await;
    for _ in 0..3 {
        server
            .post(
                "/login",
                None,
                json!({ "email": "jo@example.com", "password": "wrong password" }),
            )
            .await
            .assert_problem(401, "invalid_credentials");
    }
    let limited = server
        .post(
            "/login",
            None,
            json!({ "email": "jo@example.com", "password": PASSWORD }),
        )
        .await;
    limited.assert_problem(429, "rate_limited");
    let retry_after: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after));
    // Another account is not affected.
    server.sign_up("Kim", "kim@example.com").await;
    server.login("kim@example.com").await;
    server.stop().await;
}

async fn refresh_rotates_within_the_session_and_revokes_the_old_token(backend: Backend) {
    let server = backend.start().await;
    let (id, _, first) = server.new_session().await;

    let by_path = server.get(&format!("/login/refresh/{first}"), None).await;
    assert_eq!(by_path.status, 200, "{}", by_path.body);
    assert_eq!(by_path.body["id"], id);
    let second = by_path.token();
    assert_ne!(second, first);
    assert_eq!(sid_of(&first), sid_of(&second), "same session");

    server
        .get("/user/me", Some(&first))
        .await
        .assert_problem(401, "invalid_token");
    assert_eq!(server.get("/user/me", Some(&second)).await.status, 200);

    let by_header = server
        .request(reqwest::Method::POST, "/login/refresh", Some(&second), None)
        .await;
    assert_eq!(by_header.status, 200, "{}", by_header.body);
    let third = by_header.token();
    assert_ne!(third, second);
    assert_eq!(server.get("/user/me", Some(&third)).await.status, 200);

    server
        .request(reqwest::Method::POST, "/login/refresh", None, None)
        .await
        .assert_problem(401, "invalid_token");
    server
        .get("/login/refresh/not-a-token", None)
        .await
        .assert_problem(401, "invalid_token");
    let (_, _, other) = server.new_session().await;
    server
        .get(&format!("/login/refresh/{third}"), Some(&other))
        .await
        .assert_problem(401, "token_mismatch");
    server.stop().await;
}

async fn concurrent_refreshes_of_one_token_share_one_successor(backend: Backend) {
    let server = backend.start().await;
    let (_, _, token) = server.new_session().await;
    let url = server.url(&format!("/login/refresh/{token}"));
    let requests = (0..8).map(|_| {
        let http = server.http.clone();
        let url = url.clone();
        async move { crate::common::answer(http.get(url).send().await.unwrap()).await }
    });
    let answers = futures::future::join_all(requests).await;
    let successors: Vec<String> = answers
        .iter()
        .map(|a| {
            assert_eq!(a.status, 200, "{}", a.body);
            a.token()
        })
        .collect();
    assert!(
        successors.iter().all(|t| t == &successors[0]),
        "all 8 got the same successor"
    );
    assert_ne!(successors[0], token);

    // A retry within the grace interval gets the same successor too.
    let retry = server.get(&format!("/login/refresh/{token}"), None).await;
    assert_eq!(retry.token(), successors[0]);
    assert_eq!(server.get("/user/me", Some(&successors[0])).await.status, 200);
    server.stop().await;
}

async fn reuse_after_the_grace_interval_revokes_the_session(backend: Backend) {
    let (server, clock) = backend.start_on_clock(|c| c.refresh_grace_secs = 1).await;
    let (_, _, first) = server.new_session().await;
    let second = server.get(&format!("/login/refresh/{first}"), None).await.token();
    clock.advance(2);

    server
        .get(&format!("/login/refresh/{first}"), None)
        .await
        .assert_problem(401, "token_reused");
    server
        .get("/user/me", Some(&second))
        .await
        .assert_problem(401, "invalid_token");
    server
        .get(&format!("/login/refresh/{second}"), None)
        .await
        .assert_problem(401, "invalid_token");
    server.stop().await;
}

async fn expired_tokens_are_refused_everywhere(backend: Backend) {
    let (server, clock) = backend.start_on_clock(|c| c.token_ttl_secs = 1).await;
    let (_, _, token) = server.new_session().await;
    clock.advance(2);
    server
        .get("/user/me", Some(&token))
        .await
        .assert_problem(401, "invalid_token");
    server
        .get(&format!("/login/refresh/{token}"), None)
        .await
        .assert_problem(401, "invalid_token");
    let introspected = server.post("/token/introspect", None, json!({ "token": token })).await;
    assert_eq!(introspected.body, json!({ "active": false }));
    server.stop().await;
}

async fn a_session_ends_at_its_absolute_lifetime(backend: Backend) {
    let (server, clock) = backend.start_on_clock(|c| c.session_max_age_secs = 2).await;
    let (_, _, token) = server.new_session().await;
    let successor = server.get(&format!("/login/refresh/{token}"), None).await;
    assert!(
        successor.body["expiresIn"].as_i64().unwrap() <= 2,
        "capped by the session: {}",
        successor.body
    );
    clock.advance(2);
    server
        .get(&format!("/login/refresh/{}", successor.token()), None)
        .await
        .assert_problem(401, "invalid_token");
    server.stop().await;
}

async fn logout_ends_one_session_and_logout_all_every_session(backend: Backend) {
    let server = backend.start().await;
    let (_, email, phone) = server.new_session().await;
    let laptop = server.login(&email).await;
    let tablet = server.login(&email).await;
    let (_, _, stranger) = server.new_session().await;

    let out = server
        .request(reqwest::Method::POST, "/logout", Some(&phone), None)
        .await;
    assert_eq!(out.status, 200);
    assert_eq!(out.body, json!({ "result": true }));
    server
        .get("/user/me", Some(&phone))
        .await
        .assert_problem(401, "invalid_token");
    server
        .get(&format!("/login/refresh/{phone}"), None)
        .await
        .assert_problem(401, "invalid_token");
    assert_eq!(server.get("/user/me", Some(&laptop)).await.status, 200);

    let all = server
        .request(reqwest::Method::POST, "/logout/all", Some(&laptop), None)
        .await;
    assert_eq!(all.body, json!({ "result": true }));
    server
        .get("/user/me", Some(&laptop))
        .await
        .assert_problem(401, "invalid_token");
    server
        .get("/user/me", Some(&tablet))
        .await
        .assert_problem(401, "invalid_token");
    assert_eq!(
        server.get("/user/me", Some(&stranger)).await.status,
        200,
        "other users keep their sessions"
    );

    server
        .request(reqwest::Method::POST, "/logout", None, None)
        .await
        .assert_problem(401, "invalid_token");
    server
        .request(reqwest::Method::POST, "/logout/all", Some(&laptop), None)
        .await
        .assert_problem(401, "invalid_token");
    // A new login still works after logging out everywhere.
    assert_eq!(
        server.get("/user/me", Some(&server.login(&email).await)).await.status,
        200
    );
    server.stop().await;
}

async fn a_full_password_pool_answers_503_at_once(backend: Backend) {
    let server = backend
        .start_with(|c| {
            c.password_workers = Some(1);
            c.password_queue = 0;
            // Parallel logins of one account from one client would otherwise meet the backoff.
            c.throttle_free_failures = 1_000;
        })
        .await;
    let (_, email, _) = server.new_session().await;
    let logins = (0..12).map(|_| server.post("/login", None, json!({ "email": email, "password": PASSWORD })));
    let answers = futures::future::join_all(logins).await;
    let ok = answers.iter().filter(|a| a.status == 200).count();
    let refused: Vec<_> = answers.iter().filter(|a| a.status == 503).collect();
    assert!(ok >= 1, "some logins get through");
    assert!(!refused.is_empty(), "the excess is refused");
    assert_eq!(ok + refused.len(), answers.len(), "nothing else: {answers:?}");
    for answer in refused {
        answer.assert_problem(503, "overloaded");
        assert_eq!(answer.headers["retry-after"], "1");
    }
    server.stop().await;
}

fn sid_of(token: &str) -> String {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["sid"].as_str().unwrap().to_owned()
}

backend_tests!(
    login_returns_a_credential_and_hides_which_part_was_wrong,
    repeated_login_failures_are_rate_limited,
    refresh_rotates_within_the_session_and_revokes_the_old_token,
    concurrent_refreshes_of_one_token_share_one_successor,
    reuse_after_the_grace_interval_revokes_the_session,
    expired_tokens_are_refused_everywhere,
    a_session_ends_at_its_absolute_lifetime,
    logout_ends_one_session_and_logout_all_every_session,
    a_full_password_pool_answers_503_at_once,
);
