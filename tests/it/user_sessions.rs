//! The sessions a user can see and end: `GET /user/sessions` and `DELETE /user/sessions/{id}`.

use std::time::Duration;

use crate::common::{eventually, Backend, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

async fn sessions(server: &TestServer, token: &str) -> Vec<Value> {
    let answer = server.get("/user/sessions", Some(token)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["list"].as_array().unwrap().clone()
}

async fn a_user_lists_their_sessions_and_ends_one_everywhere(backend: Backend) {
    let (first, second) = (backend.start().await, backend.start().await);
    let email = format!("sessions-{}@example.com", uuid::Uuid::new_v4().simple());
    first.sign_up("Sessions", &email).await;
    let laptop = first.login_from(&email, "Laptop Firefox").await;
    let phone = first.login_from(&email, "Phone Safari").await;

    let list = sessions(&first, &laptop).await;
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0]["userAgent"], "Phone Safari", "newest first");
    assert_eq!(list[1]["userAgent"], "Laptop Firefox");
    assert_eq!(list[0]["current"], false);
    assert_eq!(list[1]["current"], true);
    for session in &list {
        assert_eq!(session["ip"], "127.0.0.1");
        for field in ["createdAt", "lastUsedAt", "expiresAt"] {
            assert!(
                session[field].as_str().is_some_and(|t| t.ends_with('Z')),
                "{field}: {session}"
            );
        }
        assert_eq!(session["lastUsedAt"], session["createdAt"], "no refresh yet");
    }

    // Ending the phone's session from the laptop holds on every instance within a second.
    let phone_session = list[0]["id"].as_str().unwrap().to_owned();
    let ended = first
        .request(
            Method::DELETE,
            &format!("/user/sessions/{phone_session}"),
            Some(&laptop),
            None,
        )
        .await;
    assert_eq!(ended.status, 204, "{}", ended.body);
    for server in [&first, &second] {
        let rejected = eventually(Duration::from_secs(1), || async {
            server.get("/user/me", Some(&phone)).await.status == 401
        })
        .await;
        assert!(rejected, "the ended session's token is refused everywhere");
    }
    assert_eq!(second.get("/user/me", Some(&laptop)).await.status, 200);
    assert_eq!(sessions(&second, &laptop).await.len(), 1);
    let again = first
        .request(
            Method::DELETE,
            &format!("/user/sessions/{phone_session}"),
            Some(&laptop),
            None,
        )
        .await;
    again.assert_problem(404, "not_found");
}

async fn another_users_session_is_not_found(backend: Backend) {
    let server = backend.start().await;
    let (_, _, mine) = server.new_session().await;
    let (_, _, theirs) = server.new_session().await;
    let their_session = sessions(&server, &theirs).await[0]["id"].as_str().unwrap().to_owned();
    let answer = server
        .request(
            Method::DELETE,
            &format!("/user/sessions/{their_session}"),
            Some(&mine),
            None,
        )
        .await;
    answer.assert_problem(404, "not_found");
    assert_eq!(server.get("/user/me", Some(&theirs)).await.status, 200, "untouched");
    let malformed = server
        .request(Method::DELETE, "/user/sessions/nope", Some(&mine), None)
        .await;
    assert_eq!(malformed.status, 400);
}

async fn last_used_moves_at_refresh(backend: Backend) {
    let (server, clock) = backend.start_on_clock(|_| {}).await;
    let (_, _, token) = server.new_session().await;
    let before = sessions(&server, &token).await[0].clone();
    clock.advance(1);
    let refreshed = server.post("/login/refresh", Some(&token), json!({})).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let after = sessions(&server, &refreshed.token()).await[0].clone();
    assert_eq!(after["id"], before["id"]);
    assert!(
        after["lastUsedAt"].as_str() > before["lastUsedAt"].as_str(),
        "{before} {after}"
    );
    assert_eq!(after["createdAt"], before["createdAt"]);
}

backend_tests!(
    a_user_lists_their_sessions_and_ends_one_everywhere,
    another_users_session_is_not_found,
    last_used_moves_at_refresh,
);
