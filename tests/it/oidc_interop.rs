//! A token does only what it was granted (RFC 9068 §4, RFC 8707, RFC 6749 §3.3): an
//! application's token reaches the native API only when a first-party client was granted
//! `authd:api`, never refreshes or logs out a native session, and a token for an API is
//! accepted by that API's introspection alone. Each attack the issue describes is a test.

use crate::common::oidc::{
    active, authorize, first_party_app, location, parameter, payload, register, signed_in_browser, start, token_request,
};
use crate::common::{Backend, TestServer, ADMIN_EMAIL};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::oidc::REDIRECT;

/// The tokens `client` gets for `email` through the code flow (signed in on the pages).
async fn granted(server: &TestServer, client: &(String, Option<String>), email: &str, extra: &[(&str, &str)]) -> Value {
    let cookies = signed_in_browser(server, email).await;
    let mut query = vec![
        ("client_id", client.0.as_str()),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("state", "s"),
    ];
    query.extend_from_slice(extra);
    let answer = authorize(server, &cookies, &query).await;
    let code = parameter(&location(&answer), "code").expect("a code");
    let redeemed = token_request(
        server,
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(redeemed.status(), StatusCode::OK);
    redeemed.json().await.unwrap()
}

/// Every native route an account-takeover needs, each refusing `token` with 401.
async fn native_api_refuses(server: &TestServer, token: &str) {
    let me = server.get("/user/me", Some(token)).await;
    me.assert_problem(401, "invalid_token");
    for path in ["/user/me/export", "/user/sessions", "/user/events", "/mfa"] {
        assert_eq!(server.get(path, Some(token)).await.status, 401, "GET {path}");
    }
    let changed = server
        .patch("/user", Some(token), json!({"email": "mallory@example.com"}))
        .await;
    assert_eq!(changed.status, 401, "no e-mail change");
    let removed = server
        .request(
            Method::DELETE,
            "/mfa/00000000-0000-7000-8000-000000000000",
            Some(token),
            None,
        )
        .await;
    assert_eq!(removed.status, 401, "no factor removal");
    let deleted = server
        .request(Method::DELETE, "/user/me", Some(token), Some(json!({"password": "x"})))
        .await;
    assert_eq!(deleted.status, 401);
    refresh_and_logout_refuse(server, token).await;
}

async fn refresh_and_logout_refuse(server: &TestServer, token: &str) {
    let posted = server.request(Method::POST, "/login/refresh", Some(token), None).await;
    assert_eq!(posted.status, 401, "no fresh tokens without offline_access");
    let in_path = server.get(&format!("/login/refresh/{token}"), None).await;
    assert_eq!(in_path.status, 401);
    for path in ["/logout", "/logout/all"] {
        assert_eq!(
            server.request(Method::POST, path, Some(token), None).await.status,
            401,
            "{path}"
        );
    }
}

async fn an_openid_token_reaches_nothing_of_the_native_api(backend: Backend) {
    let (server, admin) = start(&backend).await;
    server.sign_up("Ada Lovelace", "ada@example.com").await;
    let app = first_party_app(&server, &admin).await;
    let tokens = granted(&server, &app, "ada@example.com", &[("scope", "openid")]).await;
    let access = tokens["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(access).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"), "RFC 9068 §2.1");
    let claims = payload(access);
    assert_eq!(claims["iss"], server.url(""));
    assert_eq!(claims["client_id"], app.0.as_str());
    assert_eq!(claims["aud"], app.0.as_str());

    native_api_refuses(&server, access).await;
    assert!(active(&server, access).await, "refused, not revoked");
    let me = server.login("ada@example.com").await;
    assert_eq!(
        server.get("/user/me", Some(&me)).await.body["email"],
        "ada@example.com",
        "nothing changed"
    );
}

async fn an_administrators_application_token_is_refused_by_the_admin_api(backend: Backend) {
    let (server, admin) = start(&backend).await;
    let app = first_party_app(&server, &admin).await;
    let tokens = granted(&server, &app, ADMIN_EMAIL, &[("scope", "openid email profile")]).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(server.get("/user", Some(access)).await.status, 401);
    assert_eq!(server.get("/events", Some(access)).await.status, 401);
    let evil = json!({"name": "Evil", "redirectUris": ["https://evil.example/cb"], "firstParty": true});
    assert_eq!(server.post("/clients", Some(access), evil).await.status, 401);
    assert_eq!(
        server.get("/user", Some(&admin)).await.status,
        200,
        "the admin's own session still works"
    );
}

async fn a_first_party_client_granted_the_api_scope_calls_the_native_api(backend: Backend) {
    let (server, admin) = start(&backend).await;
    server.sign_up("Ada", "ada@example.com").await;
    let third = json!({"name": "Other", "redirectUris": [REDIRECT], "scopes": ["openid", "authd:api"]});
    server
        .post("/clients", Some(&admin), third)
        .await
        .assert_problem(400, "validation_failed");
    let app = register(
        &server,
        &admin,
        json!({"name": "Console", "redirectUris": [REDIRECT], "firstParty": true, "scopes": ["openid", "authd:api"]}),
    )
    .await;
    let tokens = granted(&server, &app, "ada@example.com", &[("scope", "openid authd:api")]).await;
    assert_eq!(tokens["scope"], "openid authd:api");
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        server.get("/user/me", Some(access)).await.body["email"],
        "ada@example.com"
    );
    refresh_and_logout_refuse(&server, access).await;
}

async fn an_api_introspects_the_tokens_meant_for_it_and_no_others(backend: Backend) {
    let (server, admin) = start(&backend).await;
    server.sign_up("Ada", "ada@example.com").await;
    let api_uri = "https://api.example.test/";
    let api = register(&server, &admin, json!({"name": "Orders API", "resource": api_uri})).await;
    let other_api = register(
        &server,
        &admin,
        json!({"name": "Other API", "resource": "https://other.example.test"}),
    )
    .await;
    let taken = server
        .post("/clients", Some(&admin), json!({"name": "Again", "resource": api_uri}))
        .await;
    taken.assert_problem(409, "resource_taken");
    let app = first_party_app(&server, &admin).await;

    let tokens = granted(
        &server,
        &app,
        "ada@example.com",
        &[("scope", "openid"), ("resource", api_uri)],
    )
    .await;
    let for_api = tokens["access_token"].as_str().unwrap();
    assert_eq!(payload(for_api)["aud"], api_uri);
    assert_eq!(payload(for_api)["client_id"], app.0.as_str());
    let introspect = |client: &(String, Option<String>), token: &str| {
        let (client, token) = (client.clone(), token.to_owned());
        let url = server.url("/oauth2/introspect");
        async move {
            reqwest::Client::new()
                .post(url)
                .basic_auth(&client.0, client.1.as_deref())
                .form(&[("token", token.as_str())])
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let seen = introspect(&api, for_api).await;
    assert_eq!(seen["active"], true);
    assert_eq!(seen["aud"], api_uri);
    assert_eq!(seen["client_id"], app.0.as_str());
    assert_eq!(introspect(&other_api, for_api).await, json!({"active": false}));
    server
        .get("/user/me", Some(for_api))
        .await
        .assert_problem(401, "invalid_token");

    let own = granted(&server, &app, "ada@example.com", &[("scope", "openid")]).await;
    let own = own["access_token"].as_str().unwrap();
    assert_eq!(
        introspect(&api, own).await,
        json!({"active": false}),
        "not meant for the API"
    );

    let cookies = signed_in_browser(&server, "ada@example.com").await;
    let unknown = authorize(
        &server,
        &cookies,
        &[
            ("client_id", app.0.as_str()),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("resource", "https://unknown.example.test/"),
        ],
    )
    .await;
    assert_eq!(
        parameter(&location(&unknown), "error").as_deref(),
        Some("invalid_target")
    );

    let machine = register(
        &server,
        &admin,
        json!({"name": "Job", "grants": ["client_credentials"], "scopes": ["organizations"]}),
    )
    .await;
    let job = token_request(
        &server,
        &machine,
        &[("grant_type", "client_credentials"), ("resource", api_uri)],
    )
    .await;
    let job: Value = job.json().await.unwrap();
    let job = job["access_token"].as_str().unwrap();
    assert_eq!(
        introspect(&api, job).await["active"],
        true,
        "machine tokens for the API too"
    );
}

backend_tests!(
    an_openid_token_reaches_nothing_of_the_native_api,
    an_administrators_application_token_is_refused_by_the_admin_api,
    a_first_party_client_granted_the_api_scope_calls_the_native_api,
    an_api_introspects_the_tokens_meant_for_it_and_no_others,
);

/// What relying parties nobody here wrote rely on: the ID token carries the granted
/// claims, a refresh brings a new one, userinfo takes the token in the header or the body.
async fn relying_parties_get_claims_in_the_id_token_and_after_a_refresh(backend: Backend) {
    let (server, admin) = start(&backend).await;
    server.sign_up("Ada Lovelace", "ada@example.com").await;
    let app = first_party_app(&server, &admin).await;
    let tokens = granted(
        &server,
        &app,
        "ada@example.com",
        &[("scope", "openid email profile offline_access"), ("nonce", "n-1")],
    )
    .await;
    let id = payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["email"], "ada@example.com");
    assert_eq!(id["name"], "Ada Lovelace");
    assert_eq!(id["nonce"], "n-1");
    let refreshed = token_request(
        &server,
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    let refreshed: Value = refreshed.json().await.unwrap();
    let again = payload(refreshed["id_token"].as_str().expect("a new ID token"));
    assert_eq!(
        (&again["sub"], &again["aud"], &again["auth_time"]),
        (&id["sub"], &id["aud"], &id["auth_time"])
    );
    assert!(again.get("nonce").is_none(), "OIDC Core §12.2");
    let access = refreshed["access_token"].as_str().unwrap();

    let http = reqwest::Client::new();
    let by_header = http
        .get(server.url("/oauth2/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(by_header.json::<Value>().await.unwrap()["email"], "ada@example.com");
    let by_body = http
        .post(server.url("/oauth2/userinfo"))
        .form(&[("access_token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(by_body.status(), StatusCode::OK, "RFC 6750 §2.2");
    assert_eq!(by_body.json::<Value>().await.unwrap()["email"], "ada@example.com");
    let untyped = http
        .post(server.url("/oauth2/userinfo"))
        .body(format!("access_token={access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        untyped.status(),
        StatusCode::OK,
        "Authlib's body placement sends no Content-Type"
    );
    let json_typed = http
        .post(server.url("/oauth2/userinfo"))
        .header("content-type", "application/json")
        .body(format!("access_token={access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_typed.status(),
        StatusCode::BAD_REQUEST,
        "a declared type other than a form"
    );
    let both = http
        .post(server.url("/oauth2/userinfo"))
        .bearer_auth(access)
        .form(&[("access_token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), StatusCode::BAD_REQUEST, "one method only");
    let none = http.get(server.url("/oauth2/userinfo")).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        none.headers()["www-authenticate"],
        "Bearer realm=\"authd\"",
        "RFC 6750 §3.1: no error code"
    );
    let bad = http
        .get(server.url("/oauth2/userinfo"))
        .bearer_auth("x.y.z")
        .send()
        .await
        .unwrap();
    assert!(bad.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("error=\"invalid_token\""));
}

#[tokio::test]
async fn authorization_requests_by_post_and_what_is_not_supported() {
    let backend = Backend::sqlite();
    let (server, admin) = start(&backend).await;
    server.sign_up("Ada", "ada@example.com").await;
    let app = first_party_app(&server, &admin).await;
    let cookies = signed_in_browser(&server, "ada@example.com").await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let posted = http
        .post(server.url("/oauth2/authorize"))
        .header("cookie", &cookies)
        .form(&[
            ("client_id", app.0.as_str()),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::SEE_OTHER, "OIDC Core §3.1.2.1");
    assert!(parameter(&location(&posted), "code").is_some());
    for (name, value, error) in [
        ("request", "eyJhbGciOiJub25lIn0.e30.", "request_not_supported"),
        ("request_uri", "https://app.example/r", "request_uri_not_supported"),
        ("response_mode", "form_post", "invalid_request"),
    ] {
        let query = [
            ("client_id", app.0.as_str()),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            (name, value),
        ];
        let refused = authorize(&server, &cookies, &query).await;
        assert_eq!(
            parameter(&location(&refused), "error").as_deref(),
            Some(error),
            "{name}"
        );
    }
    let discovery = http
        .get(server.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert!(discovery.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age"));
    let discovery: Value = discovery.json().await.unwrap();
    assert!(discovery["prompt_values_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("consent")));
    assert_eq!(discovery["response_modes_supported"], json!(["query"]));
}

#[tokio::test]
async fn browser_applications_of_registered_origins_pass_cors() {
    let backend = Backend::sqlite();
    let (server, admin) = start(&backend).await;
    let spa = "http://localhost:5173";
    register(
        &server,
        &admin,
        json!({"name": "SPA", "redirectUris": [format!("{spa}/callback")], "public": true, "firstParty": true}),
    )
    .await;
    let http = reqwest::Client::new();
    for path in [
        "/oauth2/token",
        "/oauth2/userinfo",
        "/oauth2/revoke",
        "/.well-known/openid-configuration",
    ] {
        let preflight = http
            .request(Method::OPTIONS, server.url(path))
            .header("origin", spa)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .send()
            .await
            .unwrap();
        assert_eq!(preflight.status(), StatusCode::NO_CONTENT, "{path}");
        assert_eq!(preflight.headers()["access-control-allow-origin"], spa, "{path}");
    }
    let stranger = http
        .request(Method::OPTIONS, server.url("/oauth2/token"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(stranger.headers().get("access-control-allow-origin").is_none());
    let jwks = http
        .get(server.url("/.well-known/jwks.json"))
        .header("origin", spa)
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.headers()["access-control-allow-origin"], spa);
    let native = http
        .get(server.url("/user/me"))
        .header("origin", spa)
        .send()
        .await
        .unwrap();
    assert!(
        native.headers().get("access-control-allow-origin").is_none(),
        "not the native API"
    );
    assert_eq!(native.headers()["cache-control"], "no-store");
    assert_eq!(native.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn redirect_uris_are_refused_unless_exact_and_plain() {
    let backend = Backend::sqlite();
    let (server, admin) = start(&backend).await;
    for uri in [
        "https://*.example.com/cb",
        "https://user:pass@x.example/cb",
        "http:/127.0.0.1/cb",
        "https://a.example/cb\r\nX: y",
    ] {
        let body = json!({"name": "Bad", "redirectUris": [uri]});
        server
            .post("/clients", Some(&admin), body)
            .await
            .assert_problem(400, "validation_failed");
    }
}

backend_tests!(relying_parties_get_claims_in_the_id_token_and_after_a_refresh);
