//! Breached passwords: the offline list in the binary, and the Pwned Passwords range API
//! (a fake on loopback) with its outage.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::Backend;
use authd::config::BreachCheck;
use axum::extract::{Path, State};
use axum::routing::get;
use serde_json::json;
use sha1::{Digest as _, Sha1};

/// On the offline list, yet strong enough for the strength rule.
const LISTED: &str = "23WKoa0FP78dk";
/// Strong, and on no list but the fake range API's.
const PWNED: &str = "quartz-lantern-92-meadow";
const CLEAN: &str = "umbrella-orbit-38-thistle";

/// A fake range API that knows [`PWNED`]; counts the prefixes it is asked for.
async fn fake_range_api(asked: Arc<AtomicUsize>) -> String {
    let hex: String = Sha1::digest(PWNED.as_bytes())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let app = axum::Router::new()
        .route(
            "/range/{prefix}",
            get(
                move |State(asked): State<Arc<AtomicUsize>>, Path(prefix): Path<String>| {
                    let hex = hex.clone();
                    async move {
                        asked.fetch_add(1, Ordering::SeqCst);
                        assert_eq!(prefix.len(), 5, "only five hex digits leave the server");
                        let mut body = "0000000000000000000000000000000000A:0\r\n".to_owned();
                        if hex.starts_with(&prefix) {
                            body.push_str(&format!("{}:42\r\n", &hex[5..]));
                        }
                        body
                    }
                },
            ),
        )
        .with_state(asked);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn sign_up_body(password: &str) -> serde_json::Value {
    json!({
        "name": "Breach Test",
        "email": format!("breach-{}@example.com", uuid::Uuid::new_v4().simple()),
        "password": password,
    })
}

async fn the_offline_list_refuses_a_listed_password_wherever_one_is_set(backend: Backend) {
    let server = backend.start().await;
    server
        .post("/user", None, sign_up_body(LISTED))
        .await
        .assert_problem(400, "breached_password");
    let (_, _, token) = server.new_session().await;
    let change = server.change_password(&token, LISTED).await;
    change.assert_problem(400, "breached_password");
    assert_eq!(server.post("/user", None, sign_up_body(CLEAN)).await.status, 201);
}

async fn hibp_mode_asks_the_range_api_and_fails_open(backend: Backend) {
    let asked = Arc::new(AtomicUsize::new(0));
    let url = fake_range_api(asked.clone()).await;
    let server = backend
        .start_with(|c| {
            c.breached_passwords = BreachCheck::Hibp;
            c.hibp_url = url;
        })
        .await;
    server
        .post("/user", None, sign_up_body(PWNED))
        .await
        .assert_problem(400, "breached_password");
    server
        .post("/user", None, sign_up_body(LISTED))
        .await
        .assert_problem(400, "breached_password");
    assert_eq!(server.post("/user", None, sign_up_body(CLEAN)).await.status, 201);
    assert_eq!(asked.load(Ordering::SeqCst), 2, "the offline list answers first");
    server.stop().await;

    // Unreachable: the password is accepted, and the miss logged and counted.
    let down = backend
        .start_with(|c| {
            c.breached_passwords = BreachCheck::Hibp;
            c.hibp_url = "http://127.0.0.1:9".into();
        })
        .await;
    let series = "authd_breached_password_lookups_total{outcome=\"unreachable\"}";
    let before = down.metric(series).await;
    assert_eq!(down.post("/user", None, sign_up_body(PWNED)).await.status, 201);
    assert_eq!(down.metric(series).await, before + 1.0);
}

backend_tests!(
    the_offline_list_refuses_a_listed_password_wherever_one_is_set,
    hibp_mode_asks_the_range_api_and_fails_open,
);
