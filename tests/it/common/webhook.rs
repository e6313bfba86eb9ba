//! A webhook receiver on loopback: checks each delivery's `Authd-Signature`, answers 503 to
//! the first `refuse_first` deliveries (a receiver that is down), then keeps every event.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use parking_lot::Mutex;
use serde_json::Value;
use sha2::Sha256;

#[derive(Clone)]
struct Receiver {
    secret: String,
    refuse_first: usize,
    seen: Arc<AtomicUsize>,
    events: Arc<Mutex<Vec<Value>>>,
    bad_signatures: Arc<AtomicUsize>,
}

/// A running receiver.
pub struct WebhookReceiver {
    pub url: String,
    receiver: Receiver,
}

impl WebhookReceiver {
    pub async fn start(secret: &str, refuse_first: usize) -> Self {
        let receiver = Receiver {
            secret: secret.to_owned(),
            refuse_first,
            seen: Arc::default(),
            events: Arc::default(),
            bad_signatures: Arc::default(),
        };
        let app = axum::Router::new()
            .route("/hook", post(deliver))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, receiver }
    }

    /// Every delivery accepted so far, in arrival order (duplicates included).
    pub fn events(&self) -> Vec<Value> {
        self.receiver.events.lock().clone()
    }

    /// Deliveries seen, refused ones included.
    pub fn attempts(&self) -> usize {
        self.receiver.seen.load(Ordering::SeqCst)
    }

    pub fn bad_signatures(&self) -> usize {
        self.receiver.bad_signatures.load(Ordering::SeqCst)
    }
}

async fn deliver(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let seen = receiver.seen.fetch_add(1, Ordering::SeqCst);
    let body = String::from_utf8_lossy(&body).into_owned();
    let header = headers
        .get("authd-signature")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if !signed_by(&receiver.secret, header, &body) {
        receiver.bad_signatures.fetch_add(1, Ordering::SeqCst);
        return StatusCode::UNAUTHORIZED;
    }
    if seen < receiver.refuse_first {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    receiver.events.lock().push(serde_json::from_str(&body).unwrap());
    StatusCode::NO_CONTENT
}

/// Checks `t=<t>,v1=<hex HMAC-SHA256 of "<t>.<body>">` the way a receiver would.
fn signed_by(secret: &str, header: &str, body: &str) -> bool {
    let mut parts = header.split(',');
    let (Some(t), Some(v1)) = (
        parts.next().and_then(|p| p.strip_prefix("t=")),
        parts.next().and_then(|p| p.strip_prefix("v1=")),
    ) else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    expected == v1
}
