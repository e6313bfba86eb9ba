//! The audit log: events written with their change (never for a change that failed),
//! read by their owner and by administrators, pruned past retention, counted in /metrics,
//! and posted to a webhook that is down at first.

use std::collections::HashSet;
use std::time::Duration;

use crate::common::webhook::WebhookReceiver;
use crate::common::{eventually, Backend, PASSWORD};
use authd::domain::events::EventKind;
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
        .change_password(&token, "violet elephant juggling marmalade")
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

/// The hash of the link that follows `marker` in `mail`.
fn hash_after(mail: &crate::common::smtp::ReceivedMail, marker: &str) -> String {
    let text = mail.decoded();
    let start = text.find(marker).expect("a link") + marker.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn every_event_type_of_the_contract_is_recorded(backend: Backend) {
    use crate::common::smtp::{Mailbox, SmtpServer};
    use authd::domain::verification::VerificationMode;
    let wait = Duration::from_secs(5);
    let mailbox = Mailbox::default();
    let smtp = SmtpServer::start(0, mailbox.clone()).await;
    let smtp_url = smtp.url();
    let receiver = WebhookReceiver::start("hook-secret", 0).await;
    let hook = receiver.url.clone();
    let (_fake, corp) = crate::common::upstream::fake_corp().await;
    let (server, admin, clock) = backend
        .start_with_admin_on_clock(|c| {
            c.upstreams = vec![corp];
            c.webhook_url = Some(hook);
            c.webhook_secret = Some("hook-secret".to_owned().into());
            c.smtp_url = Some(smtp_url);
            c.public_url = "https://auth.example.com".into();
            c.email_verification = VerificationMode::Optional;
            c.refresh_grace_secs = 0;
        })
        .await;
    let email = format!("all-{}@example.com", uuid::Uuid::new_v4().simple());
    let id = server.sign_up("All Events", &email).await; // user.created
    let link = mailbox.wait_for(&email, 0, wait).await;
    let hash = hash_after(&link, "https://auth.example.com/user/verify?hash=");
    assert_eq!(
        server.post("/user/verify", None, json!({ "hash": hash })).await.status,
        200
    ); // email.verified
    server
        .post(
            "/login",
            None,
            json!({ "email": email, "password": "wrong password here" }),
        )
        .await; // login.failed
    let token = server.login(&email).await; // login.succeeded
    server.patch("/user", Some(&token), json!({ "name": "Renamed" })).await; // user.updated

    crate::common::upstream::connect(&server, &token, "corp", "https://auth.example.com").await; // identity.linked
    let identity = server.get("/user/identities", Some(&token)).await.body["list"][0]["id"].clone();
    let path = format!("/user/identities/{}", identity.as_str().unwrap());
    assert_eq!(
        server
            .request(reqwest::Method::DELETE, &path, Some(&token), None)
            .await
            .status,
        204
    ); // identity.unlinked

    let factor = server.post("/mfa", Some(&token), json!({ "strategy": "EMAIL" })).await;
    let factor = factor.body["mfaId"].as_str().unwrap().to_owned();
    let code = mailbox.wait_for(&email, 1, wait).await.code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    server
        .post("/mfa/validate", Some(&token), json!({ "id": factor, "code": wrong }))
        .await; // mfa.failed
    server
        .post("/mfa/validate", Some(&token), json!({ "id": factor, "code": code }))
        .await; // mfa.factor_added
    server.post("/mfa/recovery", Some(&token), json!({})).await; // recovery_codes.created
    server
        .request(reqwest::Method::DELETE, &format!("/mfa/{factor}"), Some(&token), None)
        .await; // mfa.factor_removed

    let organization = server
        .post("/organization", Some(&admin), json!({ "name": "Events" }))
        .await;
    let organization = organization.body["id"].as_str().unwrap().to_owned();
    let body = json!({ "organizationId": organization, "userId": id });
    server.post("/organization/add", Some(&admin), body).await; // organization.member_added
    let path = format!("/organization/{organization}/member/{id}");
    server.request(reqwest::Method::DELETE, &path, Some(&admin), None).await; // organization.member_removed

    let changed = server
        .change_password(&token, "violet elephant juggling marmalade")
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body); // password.changed
    server.post("/password/forget", None, json!({ "email": email })).await;
    let reset = eventually(wait, || async {
        mailbox
            .to(&email)
            .iter()
            .any(|m| m.decoded().contains("/password/recover?hash="))
    })
    .await;
    assert!(reset);
    let mail = mailbox
        .to(&email)
        .into_iter()
        .rev()
        .find(|m| m.decoded().contains("/password/recover?hash="))
        .unwrap();
    let hash = hash_after(&mail, "https://auth.example.com/password/recover?hash=");
    let recovered = server
        .post("/password/recover", None, json!({ "hash": hash, "password": PASSWORD }))
        .await;
    assert_eq!(recovered.status, 200, "{}", recovered.body); // password.reset

    let first = server.login(&email).await;
    let second = server.post("/login/refresh", Some(&first), json!({})).await.token();
    clock.advance(1);
    server.post("/login/refresh", Some(&first), json!({})).await; // session.reuse_detected
    let other = server.login(&email).await;
    assert_eq!(server.post("/logout", Some(&other), json!({})).await.status, 200); // session.revoked
    assert_eq!(server.get("/user/me", Some(&second)).await.status, 401);
    let before = server
        .get(&format!("/events?userId={id}&limit=100"), Some(&admin))
        .await;
    let recorded: HashSet<String> = types(&before.body).into_iter().collect();
    let last = server.login(&email).await;
    let deleted = server
        .request(
            reqwest::Method::DELETE,
            "/user/me",
            Some(&last),
            Some(json!({ "password": PASSWORD })),
        )
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.body); // user.deleted

    let every: HashSet<String> = EventKind::ALL.iter().map(|k| k.as_str().to_owned()).collect();
    let missing: Vec<&String> = every.iter().filter(|t| !recorded.contains(*t)).collect();
    assert_eq!(missing, [&"user.deleted".to_owned()], "the log held every other type");
    // Deletion took the account's events with it but its tombstone; the webhook got all.
    let after = server
        .get(&format!("/events?userId={id}&limit=100"), Some(&admin))
        .await;
    assert_eq!(types(&after.body), ["user.deleted"]);
    let delivered = eventually(Duration::from_secs(10), || async {
        let got: HashSet<String> = receiver
            .events()
            .iter()
            .filter(|e| e["userId"] == id.as_str())
            .map(|e| e["type"].as_str().unwrap().to_owned())
            .collect();
        got == every
    })
    .await;
    assert!(delivered, "every type reached the webhook");
}

backend_tests!(
    every_event_type_of_the_contract_is_recorded,
    webhook_deliveries_wait_through_a_restart,
    an_owner_reads_their_events_newest_first_without_secrets,
    admins_filter_every_accounts_events,
    a_failed_change_writes_no_event,
    events_past_retention_are_pruned,
    every_event_reaches_a_webhook_that_was_down_at_first,
);
