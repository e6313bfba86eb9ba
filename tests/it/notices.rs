//! Security notices: the e-mails a user gets when their account's security changes, read
//! from a real SMTP server on loopback.

use std::time::Duration;

use crate::common::smtp::{Mailbox, SmtpServer};
use crate::common::{Backend, TestServer};
use serde_json::json;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(5);

async fn start(backend: &Backend, smtp: &SmtpServer) -> TestServer {
    let url = smtp.url();
    backend
        .start_with(|c| {
            c.smtp_url = Some(url);
            c.security_notices = true;
        })
        .await
}

fn subjects(mailbox: &Mailbox, email: &str) -> Vec<String> {
    mailbox
        .to(email)
        .iter()
        .filter_map(|mail| {
            mail.decoded()
                .lines()
                .find_map(|line| line.strip_prefix("Subject: ").map(str::to_owned))
        })
        .collect()
}

async fn changes_to_an_accounts_security_are_told_to_its_owner(backend: Backend) {
    let mailbox = Mailbox::default();
    let smtp = SmtpServer::start(0, mailbox.clone()).await;
    let server = start(&backend, &smtp).await;
    let email = format!("notice-{}@example.com", Uuid::new_v4().simple());
    server.sign_up("Notice", &email).await;
    let token = server.login_from(&email, "Laptop").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(mailbox.to(&email).is_empty(), "no notice for the very first sign-in");

    server.login_from(&email, "Laptop").await;
    server.login_from(&email, "A phone never seen").await;
    mailbox.wait_for(&email, 0, WAIT).await;
    let changed = server
        .change_password(&token, "violet elephant juggling marmalade")
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    mailbox.wait_for(&email, 1, WAIT).await;
    let new_email = format!("moved-{}@example.com", Uuid::new_v4().simple());
    let moved = server.patch("/user", Some(&token), json!({ "email": new_email })).await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let to_old = mailbox.wait_for(&email, 2, WAIT).await;
    assert!(
        to_old.decoded().contains(&new_email),
        "the old address is told the new one"
    );

    assert_eq!(
        subjects(&mailbox, &email),
        [
            "A sign-in from a new device",
            "Your password was changed",
            "Your account's e-mail address was changed",
        ]
    );
}

async fn factors_and_recovery_codes_are_told_too(backend: Backend) {
    let mailbox = Mailbox::default();
    let smtp = SmtpServer::start(0, mailbox.clone()).await;
    let server = start(&backend, &smtp).await;
    let email = format!("factor-{}@example.com", Uuid::new_v4().simple());
    server.sign_up("Factor", &email).await;
    let token = server.login(&email).await;
    let enrolled = server.post("/mfa", Some(&token), json!({ "strategy": "EMAIL" })).await;
    let factor = enrolled.body["mfaId"].as_str().unwrap().to_owned();
    let code = mailbox.wait_for(&email, 0, WAIT).await.code();
    let validated = server
        .post("/mfa/validate", Some(&token), json!({ "id": factor, "code": code }))
        .await;
    assert_eq!(validated.status, 200, "{}", validated.body);
    mailbox.wait_for(&email, 1, WAIT).await;
    assert_eq!(server.post("/mfa/recovery", Some(&token), json!({})).await.status, 201);
    mailbox.wait_for(&email, 2, WAIT).await;
    let removed = server
        .request(reqwest::Method::DELETE, &format!("/mfa/{factor}"), Some(&token), None)
        .await;
    assert_eq!(removed.status, 204);
    mailbox.wait_for(&email, 3, WAIT).await;
    let subjects = subjects(&mailbox, &email);
    assert_eq!(
        subjects[1..],
        [
            "A second factor was added to your account",
            "New recovery codes were made for your account",
            "A second factor was removed from your account",
        ]
    );
}

async fn notices_can_be_turned_off(backend: Backend) {
    let mailbox = Mailbox::default();
    let smtp = SmtpServer::start(0, mailbox.clone()).await;
    let url = smtp.url();
    let server = backend
        .start_with(|c| {
            c.smtp_url = Some(url);
            c.security_notices = false;
        })
        .await;
    let (_, email, token) = server.new_session().await;
    let changed = server
        .change_password(&token, "violet elephant juggling marmalade")
        .await;
    assert_eq!(changed.status, 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(mailbox.to(&email).is_empty());
}

backend_tests!(
    changes_to_an_accounts_security_are_told_to_its_owner,
    factors_and_recovery_codes_are_told_too,
    notices_can_be_turned_off,
);
