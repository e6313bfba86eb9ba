//! Bad input gets a clear 4xx problem+json and changes nothing; never a 5xx.

use crate::common::{Backend, PASSWORD};
use reqwest::Method;
use serde_json::json;

async fn raw(
    server: &crate::common::TestServer,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> crate::common::Answer {
    let mut request = server.http.request(method, server.url(path)).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    crate::common::answer(request.send().await.unwrap()).await
}

async fn malformed_oversized_and_mistyped_bodies_are_4xx_problems(backend: Backend) {
    let server = backend.start().await;
    let json_type = Some("application/json");

    raw(&server, Method::POST, "/user", json_type, b"{\"name\": ".to_vec())
        .await
        .assert_problem(400, "malformed_json");
    raw(&server, Method::POST, "/login", json_type, b"not json at all".to_vec())
        .await
        .assert_problem(400, "malformed_json");
    raw(
        &server,
        Method::POST,
        "/login",
        json_type,
        br#"{"email": "a@example.com", "password": "x"} {}"#.to_vec(),
    )
    .await
    .assert_problem(400, "malformed_json");
    raw(&server, Method::POST, "/login", json_type, Vec::new())
        .await
        .assert_problem(400, "malformed_json");
    raw(&server, Method::POST, "/login", json_type, b"[1, 2]".to_vec())
        .await
        .assert_problem(400, "validation_failed");

    let body = json!({ "email": "a@example.com", "password": PASSWORD })
        .to_string()
        .into_bytes();
    raw(&server, Method::POST, "/login", Some("text/plain"), body.clone())
        .await
        .assert_problem(415, "unsupported_media_type");
    raw(&server, Method::POST, "/login", None, body)
        .await
        .assert_problem(415, "unsupported_media_type");

    let huge = json!({ "name": "x".repeat(17 * 1024), "email": "big@example.com", "password": PASSWORD });
    raw(&server, Method::POST, "/user", json_type, huge.to_string().into_bytes())
        .await
        .assert_problem(413, "payload_too_large");

    // Wrong types name the field and never echo the value sent.
    let mistyped = server
        .post(
            "/login",
            None,
            json!({ "email": "a@example.com", "password": 1234567890123_u64 }),
        )
        .await;
    mistyped.assert_problem(400, "validation_failed");
    assert!(mistyped.body["detail"].as_str().unwrap().contains("password"));
    assert!(!mistyped.body.to_string().contains("1234567890123"));

    // Nothing was created by any of it.
    let page = server
        .post(
            "/login",
            None,
            json!({ "email": "big@example.com", "password": PASSWORD }),
        )
        .await;
    page.assert_problem(401, "invalid_credentials");
    server.stop().await;
}

async fn overlong_fields_are_rejected_not_truncated(backend: Backend) {
    let server = backend.start().await;
    let (_, _, token) = server.new_session().await;
    let long_email = format!("{}@example.com", "e".repeat(243));
    assert_eq!(long_email.len(), 255);
    for body in [
        json!({ "name": "n".repeat(129) }),
        json!({ "email": long_email }),
        json!({ "phone": format!("+{}", "1".repeat(16)) }),
    ] {
        server
            .patch("/user", Some(&token), body)
            .await
            .assert_problem(400, "validation_failed");
    }
    let me = server.get("/user/me", Some(&token)).await;
    assert_eq!(me.body["name"], "Test User", "unchanged");
    server
        .post(
            "/login",
            None,
            json!({ "email": "a@example.com", "password": "p".repeat(129) }),
        )
        .await
        .assert_problem(400, "validation_failed");
    let token_in_path = format!("/login/refresh/{}", "a".repeat(5000));
    server
        .get(&token_in_path, None)
        .await
        .assert_problem(401, "invalid_token");
    server.stop().await;
}

async fn unknown_routes_methods_and_bad_tokens_are_problems(backend: Backend) {
    let server = backend.start().await;
    server
        .get("/no/such/route", None)
        .await
        .assert_problem(404, "not_found");
    server
        .request(Method::DELETE, "/login", None, None)
        .await
        .assert_problem(405, "method_not_allowed");
    let bad_header = server
        .http
        .get(server.url("/user/me"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    let bad_header = crate::common::answer(bad_header).await;
    bad_header.assert_problem(401, "invalid_token");
    assert_eq!(bad_header.headers["www-authenticate"], "Bearer");
    server
        .get("/user/me", Some("a.b.c"))
        .await
        .assert_problem(401, "invalid_token");
    server.stop().await;
}

backend_tests!(
    malformed_oversized_and_mistyped_bodies_are_4xx_problems,
    overlong_fields_are_rejected_not_truncated,
    unknown_routes_methods_and_bad_tokens_are_problems,
);
