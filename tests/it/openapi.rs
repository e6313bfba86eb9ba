//! `GET /openapi.json` describes exactly the routes the server serves.

use std::collections::BTreeSet;

use crate::common::Backend;
use reqwest::Method;

/// Every route of the contract (shared/API.md) and of the issues that extend it.
const CONTRACT: &[(&str, &str)] = &[
    ("POST", "/user"),
    ("PATCH", "/user"),
    ("GET", "/user/me"),
    ("GET", "/user"),
    ("POST", "/login"),
    ("GET", "/login/refresh/{token}"),
    ("POST", "/login/refresh"),
    ("POST", "/login/passkey"),
    ("POST", "/login/passkey/finish"),
    ("POST", "/login/confirm"),
    ("POST", "/logout"),
    ("POST", "/logout/all"),
    ("POST", "/token/introspect"),
    ("GET", "/.well-known/jwks.json"),
    ("POST", "/mfa"),
    ("POST", "/mfa/validate"),
    ("POST", "/mfa/recovery"),
    ("GET", "/mfa"),
    ("DELETE", "/mfa/{id}"),
    ("POST", "/mfa/choose"),
    ("POST", "/mfa/code"),
    ("POST", "/password/forget"),
    ("POST", "/password/recover"),
    ("PATCH", "/user/password"),
    ("POST", "/organization"),
    ("POST", "/organization/add"),
    ("PATCH", "/organization"),
    ("PATCH", "/organization/add"),
    ("GET", "/organization/{id}"),
    ("GET", "/organization"),
    ("DELETE", "/organization/{id}/member/{user_id}"),
    ("POST", "/user/verify"),
    ("POST", "/user/verify/resend"),
    ("GET", "/user/sessions"),
    ("DELETE", "/user/sessions/{id}"),
    ("GET", "/upstreams"),
    ("GET", "/user/identities"),
    ("DELETE", "/user/identities/{id}"),
    ("GET", "/user/events"),
    ("GET", "/events"),
    ("DELETE", "/user/me"),
    ("DELETE", "/user/{id}"),
    ("GET", "/user/me/export"),
    ("GET", "/health"),
    ("GET", "/health/ready"),
    ("GET", "/openapi.json"),
    ("GET", "/metrics"),
    ("POST", "/clients"),
    ("GET", "/clients"),
    ("DELETE", "/clients/{clientId}"),
];

async fn the_document_lists_every_served_route_and_nothing_else(backend: Backend) {
    let server = backend.start().await;
    let document = server.get("/openapi.json", None).await;
    assert_eq!(document.status, 200);
    assert!(document.body["openapi"].as_str().unwrap().starts_with("3.1"));

    let mut documented = BTreeSet::new();
    for (path, item) in document.body["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "patch", "put", "delete"].contains(&method.as_str()) {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let contract: BTreeSet<(String, String)> = CONTRACT.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(documented, contract, "documented routes differ from the contract");

    // Each documented route is served: never the unknown-route 404 or a 405.
    for (method, path) in &documented {
        let concrete = path
            .replace("{token}", "x")
            .replace("{clientId}", "x")
            .replace("{id}", "0190a1a0-0000-7000-8000-000000000000")
            .replace("{user_id}", "0190a1a0-0000-7000-8000-000000000001");
        let answer = server
            .request(Method::from_bytes(method.as_bytes()).unwrap(), &concrete, None, None)
            .await;
        assert_ne!(answer.status, 405, "{method} {path} is not served");
        assert_ne!(answer.body["detail"], "no such route", "{method} {path} is not served");
    }
    assert!(document.body["components"]["securitySchemes"]["bearer"].is_object());
    server.stop().await;
}

backend_tests!(the_document_lists_every_served_route_and_nothing_else);
