//! Revocation holds everywhere: across restarts, a Redis flush, and between instances.

use std::time::Duration;

use crate::common::{eventually, Backend};
use fred::prelude::*;

async fn rejected_on(server: &crate::common::TestServer, token: &str) -> bool {
    server.get("/user/me", Some(token)).await.status == 401
}

async fn revocation_survives_a_server_restart(backend: Backend) {
    let server = backend.start().await;
    let (_, email, logged_out) = server.new_session().await;
    let rotated_away = server.login(&email).await;
    let successor = server
        .get(&format!("/login/refresh/{rotated_away}"), None)
        .await
        .token();
    server
        .request(reqwest::Method::POST, "/logout", Some(&logged_out), None)
        .await;
    server.stop().await;

    let restarted = backend.start().await;
    restarted
        .get("/user/me", Some(&logged_out))
        .await
        .assert_problem(401, "invalid_token");
    restarted
        .get("/user/me", Some(&rotated_away))
        .await
        .assert_problem(401, "invalid_token");
    assert_eq!(
        restarted.get("/user/me", Some(&successor)).await.status,
        200,
        "the successor stays valid"
    );
    restarted.stop().await;
}

backend_tests!(revocation_survives_a_server_restart);

/// Rows of the revocation log, read straight from the server's database.
async fn logged_revocations(backend: &Backend) -> i64 {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&backend.database_url).await.unwrap();
    let rows = sqlx::query_scalar("SELECT COUNT(*) FROM revocations")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows
}

async fn rotations_leave_one_entry_per_session_and_refuse_every_earlier_token(backend: Backend) {
    let server = backend.start().await;
    let (_, _, first) = server.new_session().await;
    let mut chain = vec![first];
    for _ in 0..40 {
        let last = chain.last().unwrap();
        let next = server.get(&format!("/login/refresh/{last}"), None).await.token();
        chain.push(next);
    }
    let current = chain.pop().unwrap();
    for old in &chain {
        server
            .get("/user/me", Some(old))
            .await
            .assert_problem(401, "invalid_token");
    }
    assert_eq!(server.get("/user/me", Some(&current)).await.status, 200);
    assert_eq!(logged_revocations(&backend).await, 0, "no row per rotation");
    let tracked = eventually(Duration::from_secs(3), || async {
        server.metric("authd_revocations_tracked").await == 1.0
    })
    .await;
    assert!(tracked, "forty rotations of one session are one entry in memory");

    // After a restart the session row alone still refuses them.
    server.stop().await;
    let restarted = backend.start().await;
    for old in &chain {
        restarted
            .get("/user/me", Some(old))
            .await
            .assert_problem(401, "invalid_token");
    }
    assert_eq!(restarted.get("/user/me", Some(&current)).await.status, 200);
    restarted.stop().await;
}

backend_tests!(rotations_leave_one_entry_per_session_and_refuse_every_earlier_token);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis: `make test` runs it when they answer"]
async fn revocation_survives_a_redis_flushall_and_restart() {
    let mut backend = Backend::postgres_redis().await;
    // FLUSHALL only on a Redis of this test's own, never on the one other tests share.
    let Some(own_redis) = crate::common::OwnedRedis::start().await else {
        return;
    };
    backend.redis_url = Some(own_redis.url.clone());
    let server = backend.start().await;
    let (_, _, token) = server.new_session().await;
    server
        .request(reqwest::Method::POST, "/logout", Some(&token), None)
        .await;

    let redis = crate::common::redis_client(&own_redis.url).await.unwrap();
    let _: () = redis.flushall(false).await.unwrap();
    server
        .get("/user/me", Some(&token))
        .await
        .assert_problem(401, "invalid_token");
    server.stop().await;

    let restarted = backend.start().await;
    restarted
        .get("/user/me", Some(&token))
        .await
        .assert_problem(401, "invalid_token");
    restarted.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis: `make test` runs it when they answer"]
async fn logout_on_one_instance_is_rejected_on_another_within_a_second_through_pubsub() {
    let backend = Backend::postgres_redis().await;
    // A catch-up far slower than the deadline: only pub/sub can deliver in time.
    let slow_catch_up = |c: &mut authd::config::Config| c.revocation_catch_up_ms = 60_000;
    let a = backend.start_with(slow_catch_up).await;
    let b = backend.start_with(slow_catch_up).await;
    let (_, email, token) = a.new_session().await;
    assert_eq!(b.get("/user/me", Some(&token)).await.status, 200, "B accepts A's token");

    a.request(reqwest::Method::POST, "/logout", Some(&token), None).await;
    assert!(
        eventually(Duration::from_secs(1), || rejected_on(&b, &token)).await,
        "B rejects within 1 s"
    );

    let token = b.login(&email).await;
    b.request(reqwest::Method::POST, "/logout/all", Some(&token), None)
        .await;
    assert!(eventually(Duration::from_secs(1), || rejected_on(&a, &token)).await);
    a.stop().await;
    b.stop().await;
}

/// Rotations are not published (one per refresh): B learns of each at its next catch-up,
/// within the second, and meanwhile takes the successor because it is the later token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis: `make test` runs it when they answer"]
async fn a_successor_works_at_once_on_an_instance_that_knows_only_its_predecessor() {
    let backend = Backend::postgres_redis().await;
    let a = backend.start().await;
    let b = backend.start().await;
    let (_, _, first) = a.new_session().await;
    let mut current = first;
    for _ in 0..5 {
        let previous = current;
        current = a.get(&format!("/login/refresh/{previous}"), None).await.token();
        assert_eq!(
            b.get("/user/me", Some(&current)).await.status,
            200,
            "B takes the newest token whether or not it has heard of the rotation"
        );
        assert!(
            eventually(Duration::from_secs(1), || rejected_on(&b, &previous)).await,
            "and refuses its predecessor within 1 s"
        );
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis: `make test` runs it when they answer"]
async fn instances_without_redis_catch_up_from_the_database() {
    let mut backend = Backend::postgres_redis().await;
    backend.redis_url = None;
    let fast_catch_up = |c: &mut authd::config::Config| c.revocation_catch_up_ms = 200;
    let a = backend.start_with(fast_catch_up).await;
    let b = backend.start_with(fast_catch_up).await;
    let (_, _, token) = a.new_session().await;
    assert_eq!(b.get("/user/me", Some(&token)).await.status, 200);
    a.request(reqwest::Method::POST, "/logout", Some(&token), None).await;
    assert!(eventually(Duration::from_secs(1), || rejected_on(&b, &token)).await);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_across_two_instances_share_one_successor() {
    refreshes_on_two_instances_share_one_successor(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_holds_when_rotations_wait_for_the_flush() {
    refreshes_on_two_instances_share_one_successor(true).await;
}

async fn refreshes_on_two_instances_share_one_successor(flush_rotations: bool) {
    let backend = Backend::postgres_redis().await;
    let start = || backend.start_with(|config| config.database_flush_rotations = flush_rotations);
    let (a, b) = (start().await, start().await);
    let (_, _, token) = a.new_session().await;
    let requests = (0..8).map(|i| {
        let server = if i % 2 == 0 { &a } else { &b };
        let url = server.url(&format!("/login/refresh/{token}"));
        let http = server.http.clone();
        async move { crate::common::answer(http.get(url).send().await.unwrap()).await.token() }
    });
    let successors = futures::future::join_all(requests).await;
    assert!(successors.iter().all(|t| t == &successors[0]));
    let next = a.get(&format!("/login/refresh/{}", successors[0]), None).await;
    assert_eq!(next.status, 200, "the successor rotates in turn");
    a.stop().await;
    b.stop().await;
}
