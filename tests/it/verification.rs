//! E-mail verification: the link sent at sign-up and after an address change (read from a
//! real SMTP server on loopback), `emailVerified`, resending, and `required` mode.

use std::time::Duration;

use crate::common::smtp::{Mailbox, ReceivedMail, SmtpServer};
use crate::common::{Backend, TestServer, PASSWORD};
use authd::domain::verification::VerificationMode;
use serde_json::json;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(5);

/// A server in `mode` sending mail to a fresh mailbox; the SMTP server lives as long as
/// the tuple is held.
async fn start(backend: &Backend, mode: VerificationMode) -> (Mailbox, SmtpServer, TestServer) {
    let mailbox = Mailbox::default();
    let smtp = SmtpServer::start(0, mailbox.clone()).await;
    let url = smtp.url();
    let server = backend
        .start_with(|c| {
            c.smtp_url = Some(url);
            c.public_url = "https://auth.example.com".into();
            c.email_verification = mode;
        })
        .await;
    (mailbox, smtp, server)
}

fn verify_hash(mail: &ReceivedMail) -> String {
    let marker = "https://auth.example.com/user/verify?hash=";
    let text = mail.decoded();
    let start = text.find(marker).expect("a verification link") + marker.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

fn new_email() -> String {
    format!("verify-{}@example.com", Uuid::new_v4().simple())
}

async fn verified(server: &TestServer, token: &str) -> bool {
    server.get("/user/me", Some(token)).await.body["emailVerified"]
        .as_bool()
        .expect("emailVerified in /user/me")
}

async fn the_link_sent_at_sign_up_verifies_the_address_once(backend: Backend) {
    let (mailbox, _smtp, server) = start(&backend, VerificationMode::Optional).await;
    let email = new_email();
    server.sign_up("Vera", &email).await;
    let token = server.login(&email).await;
    assert!(
        !verified(&server, &token).await,
        "optional mode lets an unverified sign-in through"
    );

    let hash = verify_hash(&mailbox.wait_for(&email, 0, WAIT).await);
    let bad = server.post("/user/verify", None, json!({ "hash": "not-a-hash" })).await;
    bad.assert_problem(401, "invalid_hash");
    let answer = server.post("/user/verify", None, json!({ "hash": hash })).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body, json!({ "result": true }));
    assert!(verified(&server, &token).await);
    let again = server.post("/user/verify", None, json!({ "hash": hash })).await;
    again.assert_problem(401, "invalid_hash");

    let events = server.get("/user/events", Some(&token)).await;
    let types: Vec<&str> = events.body["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"email.verified"), "{types:?}");
    // Resending for a verified address sends nothing.
    let resent = server.post("/user/verify/resend", Some(&token), json!({})).await;
    assert_eq!(resent.status, 202);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(mailbox.to(&email).len(), 1);
}

async fn a_resent_link_voids_the_older_one(backend: Backend) {
    let (mailbox, _smtp, server) = start(&backend, VerificationMode::Optional).await;
    let email = new_email();
    server.sign_up("Vera", &email).await;
    let token = server.login(&email).await;
    let first = verify_hash(&mailbox.wait_for(&email, 0, WAIT).await);
    let resent = server.post("/user/verify/resend", Some(&token), json!({})).await;
    assert_eq!(resent.status, 202, "{}", resent.body);
    let second = verify_hash(&mailbox.wait_for(&email, 1, WAIT).await);
    assert_ne!(first, second);
    server
        .post("/user/verify", None, json!({ "hash": first }))
        .await
        .assert_problem(401, "invalid_hash");
    assert!(!verified(&server, &token).await, "the voided link changed nothing");
    let answer = server.post("/user/verify", None, json!({ "hash": second })).await;
    assert_eq!(answer.status, 200);
    assert!(verified(&server, &token).await);
    let unauthenticated = server.post("/user/verify/resend", None, json!({})).await;
    unauthenticated.assert_problem(401, "invalid_token");
}

async fn a_changed_address_is_unverified_until_its_own_link_is_followed(backend: Backend) {
    let (mailbox, _smtp, server) = start(&backend, VerificationMode::Optional).await;
    let (old, new) = (new_email(), new_email());
    server.sign_up("Vera", &old).await;
    let token = server.login(&old).await;
    let old_link = verify_hash(&mailbox.wait_for(&old, 0, WAIT).await);
    server.post("/user/verify", None, json!({ "hash": old_link })).await;
    assert!(verified(&server, &token).await);

    let changed = server.patch("/user", Some(&token), json!({ "email": new })).await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert!(!verified(&server, &token).await, "a new address starts unverified");
    let new_link = verify_hash(&mailbox.wait_for(&new, 0, WAIT).await);
    assert_eq!(
        server
            .post("/user/verify", None, json!({ "hash": new_link }))
            .await
            .status,
        200
    );
    assert!(verified(&server, &token).await);
}

async fn required_mode_turns_away_only_the_right_password_of_an_unverified_address(backend: Backend) {
    let (mailbox, _smtp, server) = start(&backend, VerificationMode::Required).await;
    let email = new_email();
    server.sign_up("Vera", &email).await;
    let wrong = server
        .post(
            "/login",
            None,
            json!({ "email": email, "password": "not the password at all" }),
        )
        .await;
    wrong.assert_problem(401, "invalid_credentials");
    let unknown = server
        .post("/login", None, json!({ "email": new_email(), "password": PASSWORD }))
        .await;
    unknown.assert_problem(401, "invalid_credentials");
    let right = server
        .post("/login", None, json!({ "email": email, "password": PASSWORD }))
        .await;
    right.assert_problem(403, "email_not_verified");

    // The refused sign-in sent a fresh link; the last one received works.
    let mail = mailbox.wait_for(&email, 1, WAIT).await;
    let answer = server
        .post("/user/verify", None, json!({ "hash": verify_hash(&mail) }))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let token = server.login(&email).await;
    assert!(verified(&server, &token).await);
}

async fn off_mode_sends_no_link_by_itself(backend: Backend) {
    let (mailbox, _smtp, server) = start(&backend, VerificationMode::Off).await;
    let email = new_email();
    server.sign_up("Vera", &email).await;
    let token = server.login(&email).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(mailbox.to(&email).is_empty());
    assert!(!verified(&server, &token).await);
    // A user may still ask for one.
    assert_eq!(
        server.post("/user/verify/resend", Some(&token), json!({})).await.status,
        202
    );
    let mail = mailbox.wait_for(&email, 0, WAIT).await;
    assert_eq!(
        server
            .post("/user/verify", None, json!({ "hash": verify_hash(&mail) }))
            .await
            .status,
        200
    );
}

backend_tests!(
    the_link_sent_at_sign_up_verifies_the_address_once,
    a_resent_link_voids_the_older_one,
    a_changed_address_is_unverified_until_its_own_link_is_followed,
    required_mode_turns_away_only_the_right_password_of_an_unverified_address,
    off_mode_sends_no_link_by_itself,
);
