//! A fake of Twilio's Messages API on loopback: checks basic auth and records To, From and
//! Body of every message, as Twilio would receive them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Form, Json, Router};
use base64::Engine as _;
use parking_lot::Mutex;
use serde_json::{json, Value};

pub const SID: &str = "ACtest0000000000000000000000000000";
pub const TOKEN: &str = "twilio-test-token";
pub const FROM: &str = "+15005550006";
pub const WHATSAPP_FROM: &str = "+14155238886";

/// One message Twilio accepted.
#[derive(Debug, Clone)]
pub struct Sms {
    pub to: String,
    pub from: String,
    pub body: String,
}

impl Sms {
    /// The 6-digit code after "code is ".
    pub fn code(&self) -> String {
        let start = self.body.find("code is ").expect("a code in the message") + "code is ".len();
        self.body[start..start + 6].to_owned()
    }
}

#[derive(Clone, Default)]
pub struct FakeTwilio {
    pub messages: Arc<Mutex<Vec<Sms>>>,
    /// Statuses to answer the next calls with instead of accepting them.
    pub fail_next: Arc<Mutex<Vec<u16>>>,
    /// Every call, accepted or not.
    pub calls: Arc<Mutex<u32>>,
    pub rejected_auth: Arc<Mutex<u32>>,
    pub url: String,
}

impl FakeTwilio {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = FakeTwilio {
            url: format!("http://{}", listener.local_addr().unwrap()),
            ..Default::default()
        };
        let app = Router::new()
            .route("/2010-04-01/Accounts/{sid}/Messages.json", post(create_message))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    /// Waits (at most 5 s) for message number `skip` to `to`.
    pub async fn wait_for(&self, to: &str, skip: usize) -> Sms {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(sms) = self.messages.lock().iter().filter(|m| m.to == to).nth(skip).cloned() {
                return sms;
            }
            assert!(tokio::time::Instant::now() < deadline, "no message #{skip} to {to}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn create_message(
    State(fake): State<FakeTwilio>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"))
    );
    let authorized = headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str());
    if sid != SID || !authorized {
        *fake.rejected_auth.lock() += 1;
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "code": 20003, "message": "Authenticate" })),
        );
    }
    *fake.calls.lock() += 1;
    let failure = {
        let mut fail_next = fake.fail_next.lock();
        (!fail_next.is_empty()).then(|| fail_next.remove(0))
    };
    if let Some(status) = failure {
        let status = StatusCode::from_u16(status).unwrap();
        return (status, Json(json!({ "code": 21211, "message": "simulated failure" })));
    }
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    fake.messages.lock().push(Sms {
        to: field("To"),
        from: field("From"),
        body: field("Body"),
    });
    (
        StatusCode::CREATED,
        Json(json!({ "sid": "SM00000000000000000000000000000000", "status": "queued" })),
    )
}
