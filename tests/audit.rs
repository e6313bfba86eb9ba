//! The audit log: events written with their change (never for a change that failed),
//! read by their owner and by administrators, pruned past retention, counted in /metrics,
//! and posted to a webhook that is down at first.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::webhook::WebhookReceiver;
use common::{eventually, Backend, PASSWORD};
use serde_json::{json, Value};

fn types(list: &Value) -> Vec<String> {
    list["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

async fn an_owner_reads_their_events_newest_first_without_secrets(backend: Backend) {
    let server = backend.start().await;
    let (id, email, token) = server.new_session().await;
    server
        .post(
            "/login",
            None,
            json!({ "email": email, "password": "a wrong password!" }),
        )
        .await;
    let changed = server
        .patch(
            "/user/password",
            Some(&token),
            json!({ "currentPassword": PASSWORD, "newPassword": "violet elephant juggling marmalade" }),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let events = server.get("/user/events", Some(&token)).await;
    assert_eq!(events.status, 200, "{}", events.body);
    assert_eq!(
        types(&events.body),
        ["password.changed", "login.failed", "login.succeeded", "user.created"]
    );
    for event in events.body["list"].as_array().unwrap() {
        assert_eq!(event["userId"], id.as_str());
        assert_eq!(event["ip"], "127.0.0.1");
        assert!(event["at"].as_str().unwrap().ends_with('Z'));
        assert!(event["data"].is_object());
    }
    let text = events.body.to_string();
    for secret in [PASSWORD, "a wrong password!", "violet elephant", &token] {
        assert!(!text.contains(secret), "no secret in events");
    }
    let page = server.get("/user/events?limit=2", Some(&token)).await;
    assert_eq!(types(&page.body), ["password.changed", "login.failed"]);
    let cursor = page.body["nextCursor"].as_str().unwrap();
    let rest = server
        .get(&format!("/user/events?limit=2&cursor={cursor}"), Some(&token))
        .await;
    assert_eq!(types(&rest.body), ["login.succeeded", "user.created"]);
    server
        .get("/user/events?limit=0", Some(&token))
        .await
        .assert_problem(400, "validation_failed");
    server
        .get("/events", Some(&token))
        .await
        .assert_problem(403, "forbidden");
}

async fn admins_filter_every_accounts_events(backend: Backend) {
    let (server, admin) = backend.start_with_admin(|_| {}).await;
    let (first, _, _) = server.new_session().await;
    let (second, _, _) = server.new_session().await;
    let mine = server.get(&format!("/events?userId={first}"), Some(&admin)).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert_eq!(types(&mine.body), ["login.succeeded", "user.created"]);
    let logins = server.get("/events?type=login.succeeded&limit=100", Some(&admin)).await;
    let users: HashSet<&str> = logins.body["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["userId"].as_str().unwrap())
        .collect();
    assert!(users.contains(first.as_str()) && users.contains(second.as_str()));
    assert!(types(&logins.body).iter().all(|t| t == "login.succeeded"));
    let future = server.get("/events?since=2999-01-01T00:00:00Z", Some(&admin)).await;
    assert_eq!(future.body["list"], json!([]));
    server
        .get("/events?type=nope", Some(&admin))
        .await
        .assert_problem(400, "validation_failed");
    server
        .get("/events?since=yesterday", Some(&admin))
        .await
        .assert_problem(400, "validation_failed");
}

async fn a_failed_change_writes_no_event(backend: Backend) {
    let server = backend.start().await;
    let (_, taken, _) = server.new_session().await;
    let (_, _, token) = server.new_session().await;
    let refused = server.patch("/user", Some(&token), json!({ "email": taken })).await;
    refused.assert_problem(409, "email_taken");
    let twice = server
        .post(
            "/user",
            None,
            json!({ "name": "Again", "email": taken, "password": PASSWORD }),
        )
        .await;
    twice.assert_problem(409, "email_taken");
    let events = server.get("/user/events", Some(&token)).await;
    assert_eq!(
        types(&events.body),
        ["login.succeeded", "user.created"],
        "no user.updated"
    );
    let created = server
        .metric("authd_security_events_total{type=\"user.created\"}")
        .await;
    assert!(created >= 2.0, "events are counted by type: {created}");
}

async fn events_past_retention_are_pruned(backend: Backend) {
    let server = backend.start().await;
    let (_, _, token) = server.new_session().await;
    server.stop().await;
    // Age the events by a year, as if they had waited that long.
    let pool = sqlx_pool(&backend).await;
    sqlx::query("UPDATE security_events SET at = at - 31536000")
        .execute(&pool)
        .await
        .unwrap();
    let server = backend
        .start_with(|c| {
            c.events_retention_days = 90;
            c.events_prune_every_secs = 1;
        })
        .await;
    let pruned = eventually(Duration::from_secs(5), || async {
        server.get("/user/events", Some(&token)).await.body["list"] == json!([])
    })
    .await;
    assert!(pruned, "year-old events are gone");
}

async fn sqlx_pool(backend: &Backend) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&backend.database_url).await.unwrap()
}

async fn every_event_reaches_a_webhook_that_was_down_at_first(backend: Backend) {
    let receiver = WebhookReceiver::start("hook-secret", 3).await;
    let url = receiver.url.clone();
    let (server, admin) = backend
        .start_with_admin(|c| {
            c.webhook_url = Some(url);
            c.webhook_secret = Some("hook-secret".to_owned().into());
        })
        .await;
    let (_, _, token) = server.new_session().await;
    server.post("/logout", Some(&token), json!({})).await;
    let all = server.get("/events?limit=100", Some(&admin)).await;
    let expected: HashSet<String> = all.body["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        expected.len() >= 5,
        "admin created, signed in; user created, signed in, signed out"
    );
    let arrived = eventually(Duration::from_secs(15), || async {
        let got: HashSet<String> = receiver
            .events()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect();
        got == expected
    })
    .await;
    assert!(arrived, "every event arrived: {:?}", receiver.events());
    assert!(
        receiver.attempts() > expected.len(),
        "the first deliveries were refused and retried"
    );
    assert_eq!(receiver.bad_signatures(), 0);
    let delivered = receiver.events();
    let by_id: HashSet<&str> = delivered.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(by_id.len(), delivered.len(), "none twice");
    let logout = delivered.iter().find(|e| e["type"] == "session.revoked").unwrap();
    assert_eq!(logout["data"]["reason"], "logout");
}

async fn webhook_deliveries_wait_through_a_restart(backend: Backend) {
    let dead = |c: &mut authd::config::Config| {
        c.webhook_url = Some("http://127.0.0.1:9/hook".into());
        c.webhook_secret = Some("hook-secret".to_owned().into());
    };
    let server = backend.start_with(dead).await;
    let (id, _, _) = server.new_session().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.stop().await;

    let receiver = WebhookReceiver::start("hook-secret", 0).await;
    let url = receiver.url.clone();
    let _server = backend
        .start_with(|c| {
            c.webhook_url = Some(url);
            c.webhook_secret = Some("hook-secret".to_owned().into());
        })
        .await;
    let arrived = eventually(Duration::from_secs(10), || async {
        let mine: Vec<Value> = receiver
            .events()
            .into_iter()
            .filter(|e| e["userId"] == id.as_str())
            .collect();
        mine.len() == 2
    })
    .await;
    assert!(
        arrived,
        "the events queued before the restart arrived: {:?}",
        receiver.events()
    );
}

backend_tests!(
    webhook_deliveries_wait_through_a_restart,
    an_owner_reads_their_events_newest_first_without_secrets,
    admins_filter_every_accounts_events,
    a_failed_change_writes_no_event,
    events_past_retention_are_pruned,
    every_event_reaches_a_webhook_that_was_down_at_first,
);
