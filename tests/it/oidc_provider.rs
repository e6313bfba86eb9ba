//! The OpenID Connect provider, checked by a certified relying-party library: panva's
//! `openid-client` (`tests/oidc/flow.mjs`, run with Node) does discovery, the code flow with
//! PKCE through the hosted sign-in, the token exchange (validating the ID token) and
//! userinfo. The negative cases of the conformance suite's Basic OP plan that apply are
//! plain HTTP here.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::common::oidc::{
    active, authorize, location, parameter, payload, register, signed_in_browser, start, start_on_clock, token_request,
};
use crate::common::{eventually, Backend, TestServer, PASSWORD};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::oidc::REDIRECT;

/// Whether `server` refuses `token` within a second (a revocation reaching it).
async fn refused_within_a_second(server: &TestServer, token: &str) -> bool {
    eventually(Duration::from_secs(1), || async { !active(server, token).await }).await
}

/// Runs `tests/oidc/flow.mjs`; `None` (SKIPPED) when its packages are not installed and
/// the run does not require them.
fn relying_party(server: &TestServer, client: &(String, Option<String>), email: &str, scope: &str) -> Option<Value> {
    relying_party_with(server, client, email, scope, false)
}

fn relying_party_with(
    server: &TestServer,
    client: &(String, Option<String>),
    email: &str,
    scope: &str,
    refresh: bool,
) -> Option<Value> {
    relying_party_signed(server, client, email, scope, refresh, "RS256")
}

fn relying_party_signed(
    server: &TestServer,
    client: &(String, Option<String>),
    email: &str,
    scope: &str,
    refresh: bool,
    alg: &str,
) -> Option<Value> {
    let refresh = if refresh { "1" } else { "" };
    relying_party_env(
        server,
        client,
        email,
        scope,
        &[("REFRESH", refresh), ("ID_TOKEN_ALG", alg)],
    )
}

/// Runs the relying party with more of its environment (see `tests/oidc/flow.mjs`).
fn relying_party_env(
    server: &TestServer,
    client: &(String, Option<String>),
    email: &str,
    scope: &str,
    extra: &[(&str, &str)],
) -> Option<Value> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
    if !folder.join("node_modules/openid-client").exists() {
        let required = std::env::var("AUTH_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1");
        assert!(!required, "openid-client is not installed: run scripts/oidc-deps.sh");
        eprintln!("SKIPPED: openid-client not installed (scripts/oidc-deps.sh)");
        return None;
    }
    let output = Command::new("node")
        .arg("flow.mjs")
        .current_dir(&folder)
        .env("ISSUER", server.url(""))
        .env("CLIENT_ID", &client.0)
        .env("CLIENT_SECRET", client.1.clone().unwrap_or_default())
        .env("REDIRECT_URI", REDIRECT)
        .env("EMAIL", email)
        .env("PASSWORD", PASSWORD)
        .env("SCOPE", scope)
        .envs(extra.iter().copied())
        .output()
        .expect("node runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    Some(serde_json::from_slice(&output.stdout).expect("one JSON line"))
}

async fn a_confidential_client_signs_a_user_in_and_a_reused_code_revokes_its_tokens(backend: Backend) {
    let (server, admin) = start(&backend).await;
    let user_id = server.sign_up("Ada Lovelace", "ada@example.com").await;
    let client = register(
        &server,
        &admin,
        json!({"name": "Grafana", "redirectUris": [REDIRECT], "firstParty": true}),
    )
    .await;
    let Some(flow) = relying_party(&server, &client, "ada@example.com", "openid email profile") else {
        return;
    };
    let claims = &flow["claims"];
    assert_eq!(claims["iss"], server.url(""));
    assert_eq!(claims["aud"], client.0.as_str());
    assert_eq!(claims["sub"], user_id.as_str());
    assert_eq!(claims["nonce"], flow["sentNonce"], "nonce returned unchanged");
    assert_eq!(flow["state"], flow["sentState"], "state returned unchanged");
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert!(claims["auth_time"].is_i64() && claims["sid"].is_string() && claims["at_hash"].is_string());
    assert_eq!(flow["userinfo"]["email"], "ada@example.com");
    assert_eq!(flow["userinfo"]["name"], "Ada Lovelace");

    let access = flow["accessToken"].as_str().unwrap();
    let token_claims = payload(access);
    assert_eq!(token_claims["aud"], client.0.as_str());
    assert_eq!(token_claims["scope"], "openid profile email");
    assert_eq!(token_claims["client_id"], client.0.as_str());
    assert_eq!(token_claims["iss"], server.url(""), "RFC 9068: the issuer of discovery");
    assert!(active(&server, access).await);
    assert_eq!(
        server.get("/user/me", Some(access)).await.status,
        401,
        "an application's token without authd:api does not reach the native API"
    );

    let http = reqwest::Client::new();
    let again = http
        .post(server.url("/oauth2/token"))
        .basic_auth(&client.0, client.1.as_deref())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", flow["code"].as_str().unwrap()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", flow["verifier"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert_eq!(again.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let revoked = refused_within_a_second(&server, access).await;
    assert!(revoked, "the tokens the reused code issued are revoked within a second");
}

async fn a_public_client_signs_in_with_pkce_and_gets_only_its_scopes(backend: Backend) {
    let (server, admin) = start(&backend).await;
    server.sign_up("Grace Hopper", "grace@example.com").await;
    let client = register(
        &server,
        &admin,
        json!({"name": "SPA", "redirectUris": [REDIRECT], "public": true, "firstParty": true,
               "scopes": ["openid", "email"]}),
    )
    .await;
    assert!(client.1.is_none());
    let scope = "openid email profile organizations";
    let Some(flow) = relying_party(&server, &client, "grace@example.com", scope) else {
        return;
    };
    assert_eq!(flow["scope"], "openid email", "a scope not granted is not in the token");
    assert_eq!(payload(flow["accessToken"].as_str().unwrap())["scope"], "openid email");
    assert!(flow["userinfo"].get("name").is_none(), "profile was not granted");
    assert_eq!(flow["userinfo"]["email"], "grace@example.com");
}

async fn offline_access_brings_a_refresh_token_that_rotates_with_reuse_detection(backend: Backend) {
    let (server, admin, clock) = start_on_clock(&backend).await;
    server.sign_up("Ada", "ada@example.com").await;
    let client = register(
        &server,
        &admin,
        json!({"name": "App", "redirectUris": [REDIRECT], "firstParty": true}),
    )
    .await;
    let Some(flow) = relying_party_with(&server, &client, "ada@example.com", "openid offline_access", true) else {
        return;
    };
    let first_access = flow["accessToken"].as_str().unwrap();
    let first_refresh = flow["refreshToken"]
        .as_str()
        .expect("a refresh token with offline_access");
    let refreshed = &flow["refreshed"];
    let new_access = refreshed["accessToken"].as_str().unwrap();
    assert_ne!(
        refreshed["refreshToken"].as_str().unwrap(),
        first_refresh,
        "the refresh token rotates"
    );
    assert_eq!(
        payload(new_access)["aud"],
        client.0.as_str(),
        "the successor keeps its audience"
    );
    assert_eq!(payload(new_access)["scope"], "openid offline_access");
    assert_eq!(
        server.get("/user/me", Some(first_refresh)).await.status,
        401,
        "a refresh token is no bearer token"
    );
    let gone = refused_within_a_second(&server, first_access).await;
    assert!(gone, "the rotated-away access token is revoked");

    // The rotated-away refresh token, after the grace interval (1 s), is reuse: the
    // session ends.
    clock.advance(2);
    let reuse = token_request(
        &server,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", first_refresh)],
    )
    .await;
    assert_eq!(reuse.status(), StatusCode::BAD_REQUEST);
    assert_eq!(reuse.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let ended = refused_within_a_second(&server, new_access).await;
    assert!(ended, "reuse revokes the session, its newest token included");
}

async fn a_client_acting_for_itself_gets_a_token_that_ends_with_the_client(backend: Backend) {
    let (server, admin) = start(&backend).await;
    let client = register(
        &server,
        &admin,
        json!({"name": "Batch job", "grants": ["client_credentials"], "scopes": ["openid", "organizations"]}),
    )
    .await;
    let unscoped = token_request(&server, &client, &[("grant_type", "client_credentials")]).await;
    let unscoped: Value = unscoped.json().await.unwrap();
    assert_eq!(unscoped["scope"], "", "no scope asked, none granted");
    let granted = token_request(
        &server,
        &client,
        &[("grant_type", "client_credentials"), ("scope", "openid organizations")],
    )
    .await;
    assert_eq!(granted.status(), StatusCode::OK);
    let body: Value = granted.json().await.unwrap();
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(payload(&token)["aud"], client.0.as_str());
    assert_eq!(
        payload(&token)["scope"],
        "organizations",
        "user-facing scopes are not for a client alone"
    );
    let active = || async {
        server
            .post("/token/introspect", None, json!({ "token": token }))
            .await
            .body["active"]
            == true
    };
    assert!(active().await);

    let removed = server
        .request(
            reqwest::Method::DELETE,
            &format!("/clients/{}", client.0),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(removed.status, 204);
    let stopped = eventually(Duration::from_secs(1), || async { !active().await }).await;
    assert!(stopped, "a deleted client's tokens stop working");
    let after = token_request(&server, &client, &[("grant_type", "client_credentials")]).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

async fn a_client_introspects_and_revokes_only_its_own_tokens(backend: Backend) {
    let (server, admin) = start(&backend).await;
    server.sign_up("Ada", "ada@example.com").await;
    let client = register(
        &server,
        &admin,
        json!({"name": "App", "redirectUris": [REDIRECT], "firstParty": true}),
    )
    .await;
    let other = register(&server, &admin, json!({"name": "Other", "redirectUris": [REDIRECT]})).await;
    let Some(flow) = relying_party(&server, &client, "ada@example.com", "openid offline_access") else {
        return;
    };
    let access = flow["accessToken"].as_str().unwrap();
    let refresh = flow["refreshToken"].as_str().unwrap();
    let http = reqwest::Client::new();
    let call = |path: &'static str, who: &(String, Option<String>), token: &str| {
        http.post(server.url(path))
            .basic_auth(&who.0, who.1.as_deref())
            .form(&[("token", token)])
            .send()
    };
    let seen: Value = call("/oauth2/introspect", &client, access)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen["active"], true);
    assert_eq!(seen["client_id"], client.0.as_str());
    assert_eq!(seen["scope"], "openid offline_access");
    let foreign: Value = call("/oauth2/introspect", &other, access)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(foreign, json!({"active": false}), "another client learns nothing");

    let by_other = call("/oauth2/revoke", &other, refresh).await.unwrap();
    assert_eq!(by_other.status(), StatusCode::OK);
    assert!(active(&server, access).await, "another client cannot revoke it");

    let revoked = call("/oauth2/revoke", &client, refresh).await.unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let gone = refused_within_a_second(&server, access).await;
    assert!(gone, "revoking the refresh token ends the session");
    let after: Value = call("/oauth2/introspect", &client, access)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after["active"], false);
    let nonsense = call("/oauth2/revoke", &client, "not-a-token").await.unwrap();
    assert_eq!(
        nonsense.status(),
        StatusCode::OK,
        "RFC 7009: an invalid token is not an error"
    );
    let unauthenticated = http
        .post(server.url("/oauth2/introspect"))
        .form(&[("token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
}

async fn an_application_signs_the_person_out_with_an_id_token_hint(backend: Backend) {
    let (server, admin) = start(&backend).await;
    server.sign_up("Ada", "ada@example.com").await;
    let bye = "http://127.0.0.1:9/bye";
    let client = register(
        &server,
        &admin,
        json!({"name": "App", "redirectUris": [REDIRECT], "postLogoutRedirectUris": [bye], "firstParty": true}),
    )
    .await;
    let Some(flow) = relying_party_env(&server, &client, "ada@example.com", "openid", &[("LOGOUT_URI", bye)]) else {
        return;
    };
    let built = url::Url::parse(flow["logoutUrl"].as_str().unwrap()).unwrap();
    assert_eq!(built.path(), "/oauth2/logout", "the library found end_session_endpoint");
    let cookies: Vec<String> = flow["cookies"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
        .collect();
    let cookies = cookies.join("; ");
    let browser_token = flow["cookies"]["authd_session"].as_str().unwrap().to_owned();
    let access = flow["accessToken"].as_str().unwrap();
    let hint = flow["idToken"].as_str().unwrap();
    let http = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    let logout = |query: Vec<(&'static str, String)>| {
        http.get(server.url("/oauth2/logout"))
            .query(&query)
            .header("cookie", &cookies)
            .send()
    };

    let unhinted = logout(vec![("post_logout_redirect_uri", bye.into())]).await.unwrap();
    assert_eq!(
        unhinted.headers()["location"],
        "/ui/logout",
        "without a hint the person is asked"
    );
    let elsewhere = logout(vec![
        ("id_token_hint", hint.into()),
        ("post_logout_redirect_uri", "http://127.0.0.1:9/elsewhere".into()),
    ])
    .await
    .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::BAD_REQUEST);
    assert!(elsewhere.headers().get("location").is_none());
    assert!(active(&server, access).await, "a refused logout ends nothing");

    let done = logout(vec![
        ("id_token_hint", hint.into()),
        ("post_logout_redirect_uri", bye.into()),
        ("state", "after".into()),
    ])
    .await
    .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        done.headers()["location"].to_str().unwrap(),
        format!("{bye}?state=after")
    );
    let ended = eventually(Duration::from_secs(1), || async {
        !active(&server, access).await && server.get("/user/me", Some(&browser_token)).await.status == 401
    })
    .await;
    assert!(ended, "the application's session and the browser's end");
}

async fn a_client_that_asks_for_eddsa_gets_eddsa_id_tokens(backend: Backend) {
    let (server, admin) = start(&backend).await;
    server.sign_up("Ada", "ada@example.com").await;
    let client = register(
        &server,
        &admin,
        json!({"name": "Modern", "redirectUris": [REDIRECT], "firstParty": true, "idTokenSignedResponseAlg": "EdDSA"}),
    )
    .await;
    let Some(flow) = relying_party_signed(&server, &client, "ada@example.com", "openid", false, "EdDSA") else {
        return;
    };
    let header = flow["idToken"].as_str().unwrap().split('.').next().unwrap().to_owned();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(header["alg"], "EdDSA", "the library verified an EdDSA ID token");
    assert_eq!(flow["claims"]["aud"], client.0.as_str());
}

async fn the_library_revokes_a_refresh_token_and_gets_client_credentials(backend: Backend) {
    let (server, admin) = start(&backend).await;
    server.sign_up("Ada", "ada@example.com").await;
    let app = register(
        &server,
        &admin,
        json!({"name": "App", "redirectUris": [REDIRECT], "firstParty": true}),
    )
    .await;
    let Some(flow) = relying_party_env(
        &server,
        &app,
        "ada@example.com",
        "openid offline_access",
        &[("REVOKE", "1")],
    ) else {
        return;
    };
    let access = flow["accessToken"].as_str().unwrap();
    let gone = refused_within_a_second(&server, access).await;
    assert!(gone, "revoking the refresh token through the library ends the session");

    let machine = register(
        &server,
        &admin,
        json!({"name": "Job", "grants": ["client_credentials"], "scopes": ["organizations"]}),
    )
    .await;
    let granted = relying_party_env(
        &server,
        &machine,
        "",
        "organizations",
        &[("MODE", "client_credentials")],
    )
    .unwrap();
    assert_eq!(granted["scope"], "organizations");
    assert_eq!(
        payload(granted["accessToken"].as_str().unwrap())["aud"],
        machine.0.as_str()
    );
}

backend_tests!(
    the_library_revokes_a_refresh_token_and_gets_client_credentials,
    a_client_that_asks_for_eddsa_gets_eddsa_id_tokens,
    an_application_signs_the_person_out_with_an_id_token_hint,
    a_client_introspects_and_revokes_only_its_own_tokens,
    offline_access_brings_a_refresh_token_that_rotates_with_reuse_detection,
    a_client_acting_for_itself_gets_a_token_that_ends_with_the_client,
    a_confidential_client_signs_a_user_in_and_a_reused_code_revokes_its_tokens,
    a_public_client_signs_in_with_pkce_and_gets_only_its_scopes,
);

#[tokio::test]
async fn requests_the_basic_op_plan_refuses() {
    let backend = Backend::sqlite();
    let (server, admin, clock) = start_on_clock(&backend).await;
    server.sign_up("Ada", "ada@example.com").await;
    let confidential = register(
        &server,
        &admin,
        json!({"name": "C", "redirectUris": [REDIRECT], "firstParty": true}),
    )
    .await;
    let public = register(
        &server,
        &admin,
        json!({"name": "P", "redirectUris": [REDIRECT], "public": true, "firstParty": true}),
    )
    .await;
    let id = confidential.0.as_str();
    let nobody = "";

    // Nothing goes back to a client that is unknown or names an unregistered redirect URI.
    for query in [
        vec![
            ("client_id", "nope"),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
        ],
        vec![
            ("client_id", id),
            ("redirect_uri", "http://127.0.0.1:9/other"),
            ("response_type", "code"),
        ],
        vec![("client_id", id), ("response_type", "code"), ("scope", "openid")],
    ] {
        let answer = authorize(&server, nobody, &query).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{query:?}");
        assert!(answer.headers().get("location").is_none());
        assert!(answer.text().await.unwrap().contains("Sign-in request refused"));
    }

    // Errors the client may hear go back to it, with its state.
    let base = [
        ("client_id", id),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("state", "s-1"),
    ];
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("response_type", "token")], "unsupported_response_type"),
        (vec![("response_type", "code"), ("prompt", "none")], "login_required"),
        (
            vec![
                ("response_type", "code"),
                ("code_challenge", "abc"),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
    ];
    for (extra, error) in cases {
        let query: Vec<(&str, &str)> = base.iter().copied().chain(extra).collect();
        let answer = authorize(&server, nobody, &query).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{query:?}");
        let back = location(&answer);
        assert!(back.as_str().starts_with(REDIRECT), "{back}");
        assert_eq!(parameter(&back, "error").as_deref(), Some(error), "{query:?}");
        assert_eq!(parameter(&back, "state").as_deref(), Some("s-1"));
        assert_eq!(parameter(&back, "iss").as_deref(), Some(server.url("").as_str()));
    }
    let no_pkce = [
        ("client_id", public.0.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("response_type", "code"),
    ];
    let answer = authorize(&server, nobody, &no_pkce).await;
    assert_eq!(
        parameter(&location(&answer), "error").as_deref(),
        Some("invalid_request"),
        "public clients need PKCE"
    );

    // Without a session the browser goes to the sign-in page and comes back here.
    let answer = authorize(
        &server,
        nobody,
        &[base.as_slice(), &[("response_type", "code")]].concat(),
    )
    .await;
    let to = location(&answer);
    assert_eq!(to.path(), "/ui/login");
    assert!(
        parameter(&to, "flow").is_some(),
        "the request waits in a sign-in flow: {to}"
    );
    assert!(
        parameter(&to, "return_to").is_none(),
        "no request is carried in the address"
    );
    // login_hint fills in the form, for this browser only.
    let hinted: Vec<(&str, &str)> = [
        base.as_slice(),
        &[("response_type", "code"), ("login_hint", "ada@example.com")],
    ]
    .concat();
    let answer = authorize(&server, nobody, &hinted).await;
    let browser_cookies: Vec<String> = answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    let login_url = server.url(&format!("/ui/login?{}", location(&answer).query().unwrap()));
    let page = |cookies: String| {
        let http = reqwest::Client::new();
        let url = login_url.clone();
        async move {
            http.get(url)
                .header("cookie", cookies)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let filled = page(browser_cookies.join("; ")).await;
    assert!(filled.contains("value=\"ada@example.com\""), "{filled}");
    let elsewhere = page(String::new()).await;
    assert!(
        !elsewhere.contains("ada@example.com"),
        "another browser sees nothing of the flow"
    );

    // A signed-in browser gets a code; the code needs the right verifier and secret.
    let cookies = signed_in_browser(&server, "ada@example.com").await;
    let verifier = "a-verifier-that-is-long-enough-for-rfc-7636-0123456789";
    let challenge = URL_SAFE_NO_PAD.encode(<sha2::Sha256 as sha2::Digest>::digest(verifier.as_bytes()));
    let with_pkce: Vec<(&str, &str)> = base
        .iter()
        .copied()
        .chain([
            ("response_type", "code"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .collect();
    let code_of = |answer: &reqwest::Response| parameter(&location(answer), "code").expect("a code");
    let http = reqwest::Client::new();
    let exchange = |code: String, secret: &'static str, verifier: &'static str| {
        http.post(server.url("/oauth2/token"))
            .basic_auth(
                id,
                Some(if secret.is_empty() {
                    confidential.1.as_deref().unwrap()
                } else {
                    secret
                }),
            )
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier),
            ])
            .send()
    };
    let code = code_of(&authorize(&server, &cookies, &with_pkce).await);
    let wrong_secret = exchange(code.clone(), "not-the-secret", verifier).await.unwrap();
    assert_eq!(wrong_secret.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong_secret.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    assert_eq!(wrong_secret.json::<Value>().await.unwrap()["error"], "invalid_client");
    let wrong_verifier = exchange(code, "", "another-verifier-that-is-long-enough-for-rfc-7636-000")
        .await
        .unwrap();
    assert_eq!(wrong_verifier.status(), StatusCode::BAD_REQUEST);
    assert_eq!(wrong_verifier.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let code = code_of(&authorize(&server, &cookies, &with_pkce).await);
    let granted = exchange(code, "", verifier).await.unwrap();
    assert_eq!(granted.status(), StatusCode::OK);
    assert_eq!(granted.headers()["cache-control"], "no-store");
    let body: Value = granted.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["id_token"].is_string());

    // max_age in the past of the sign-in sends the browser to sign in again.
    clock.advance(1);
    let old: Vec<(&str, &str)> = with_pkce.iter().copied().chain([("max_age", "0")]).collect();
    let to = location(&authorize(&server, &cookies, &old).await);
    assert_eq!(to.path(), "/ui/login", "max_age forces a new sign-in");
    let login_page = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
        .get(server.url(&format!("/ui/login?{}", to.query().unwrap())))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(
        login_page.status(),
        StatusCode::OK,
        "the signed-in browser is asked for its password again"
    );
    let skipped = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
        .get(server.url(&format!("/oauth2/authorize/resume?{}", to.query().unwrap())))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&skipped).path(),
        "/ui/login",
        "the authorization resumes only once signed in again"
    );

    // Unsupported grants and non-form bodies are RFC 6749 errors, not problem documents.
    let unsupported = http
        .post(server.url("/oauth2/token"))
        .basic_auth(id, confidential.1.as_deref())
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(unsupported.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        unsupported.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
    let json_body = http
        .post(server.url("/oauth2/token"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.json::<Value>().await.unwrap()["error"], "invalid_request");
}

#[tokio::test]
async fn discovery_names_the_endpoints_and_the_rsa_key() {
    let backend = Backend::sqlite();
    let (server, _) = start(&backend).await;
    let document = server.get("/.well-known/openid-configuration", None).await.body;
    assert_eq!(document["issuer"], server.url(""));
    assert_eq!(document["token_endpoint"], server.url("/oauth2/token"));
    assert_eq!(document["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        document["id_token_signing_alg_values_supported"],
        json!(["RS256", "EdDSA"])
    );
    let jwks = server.get("/.well-known/jwks.json", None).await.body;
    assert!(jwks["keys"].as_array().unwrap().iter().any(|k| k["kty"] == "RSA"));
}

/// The form token on a page.
fn csrf_of(page: &str) -> String {
    hidden_field(page, "csrf")
}

/// The value of the hidden field `name` on a page.
fn hidden_field(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = page.find(&marker).expect("the field") + marker.len();
    page[at..at + page[at..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn a_third_party_client_asks_for_consent_once_until_it_is_withdrawn() {
    let backend = Backend::sqlite();
    let (server, admin) = start(&backend).await;
    server.sign_up("Ada", "ada@example.com").await;
    let (id, _) = register(
        &server,
        &admin,
        json!({"name": "Photo Printer", "redirectUris": [REDIRECT]}),
    )
    .await;
    let cookies = signed_in_browser(&server, "ada@example.com").await;
    let query = [
        ("client_id", id.as_str()),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid email"),
        ("state", "st"),
    ];

    let asked = authorize(&server, &cookies, &query).await;
    assert_eq!(asked.status(), StatusCode::OK);
    let page = asked.text().await.unwrap();
    assert!(
        page.contains("Photo Printer") && page.contains("See your e-mail address"),
        "{page}"
    );

    let silent: Vec<(&str, &str)> = query.iter().copied().chain([("prompt", "none")]).collect();
    let answer = authorize(&server, &cookies, &silent).await;
    assert_eq!(
        parameter(&location(&answer), "error").as_deref(),
        Some("consent_required")
    );

    let http = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    // The page's form names its flow; the request itself stays on the server.
    let decide = |decision: &'static str, csrf: String, flow: String, cookies: String| {
        http.post(server.url("/oauth2/consent"))
            .header("cookie", cookies)
            .header("origin", server.url(""))
            .form(&[("csrf", csrf.as_str()), ("flow", flow.as_str()), ("decision", decision)])
            .send()
    };
    let (csrf, flow) = (csrf_of(&page), hidden_field(&page, "flow"));
    let denied = decide("deny", csrf.clone(), flow.clone(), cookies.clone())
        .await
        .unwrap();
    let back = location(&denied);
    assert_eq!(parameter(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(parameter(&back, "state").as_deref(), Some("st"));
    let again = decide("allow", csrf.clone(), flow, cookies.clone()).await.unwrap();
    assert_eq!(
        again.status(),
        StatusCode::BAD_REQUEST,
        "a consent page is answered once"
    );

    let page = authorize(&server, &cookies, &query).await.text().await.unwrap();
    let flow = hidden_field(&page, "flow");
    let forged = decide("allow", "forged".into(), flow.clone(), cookies.clone())
        .await
        .unwrap();
    assert_eq!(
        forged.status(),
        StatusCode::FORBIDDEN,
        "the consent form is guarded like every form"
    );
    let other_browser = signed_in_browser(&server, "ada@example.com").await;
    let other_page = authorize(&server, &other_browser, &query).await.text().await.unwrap();
    let elsewhere = decide("allow", csrf_of(&other_page), flow.clone(), other_browser)
        .await
        .unwrap();
    assert_eq!(
        elsewhere.status(),
        StatusCode::BAD_REQUEST,
        "a flow belongs to the browser that started it"
    );
    let allowed = decide("allow", csrf_of(&page), flow, cookies.clone()).await.unwrap();
    assert!(parameter(&location(&allowed), "code").is_some());
    let remembered = authorize(&server, &cookies, &query).await;
    assert!(
        parameter(&location(&remembered), "code").is_some(),
        "consent is remembered"
    );
    let more: Vec<(&str, &str)> = query
        .iter()
        .map(|&(k, v)| {
            if k == "scope" {
                (k, "openid email profile")
            } else {
                (k, v)
            }
        })
        .collect();
    assert_eq!(
        authorize(&server, &cookies, &more).await.status(),
        StatusCode::OK,
        "a new scope asks again"
    );

    let account = http
        .get(server.url("/ui/account"))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    let account = account.text().await.unwrap();
    assert!(account.contains("Applications you allowed") && account.contains("Photo Printer"));
    let withdrawn = http
        .post(server.url(&format!("/ui/account/consents/{id}/withdraw")))
        .header("cookie", &cookies)
        .header("origin", server.url(""))
        .form(&[("csrf", csrf_of(&account))])
        .send()
        .await
        .unwrap();
    assert_eq!(withdrawn.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        authorize(&server, &cookies, &query).await.status(),
        StatusCode::OK,
        "asked again after withdrawal"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis: `make test` runs it when they answer"]
async fn a_code_issued_by_one_instance_is_redeemed_at_another() {
    let backend = Backend::postgres_redis().await;
    let (first, admin) = start(&backend).await;
    // Instances of one deployment share its public URL, the issuer of every token.
    let public_url = first.url("");
    let second = backend
        .start_with(|c| c.public_url = public_url.trim_end_matches('/').to_owned())
        .await;
    first.sign_up("Ada", "ada@example.com").await;
    let (id, secret) = register(
        &first,
        &admin,
        json!({"name": "C", "redirectUris": [REDIRECT], "firstParty": true}),
    )
    .await;
    let cookies = signed_in_browser(&first, "ada@example.com").await;
    let query = [
        ("client_id", id.as_str()),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid"),
    ];
    let code = parameter(&location(&authorize(&first, &cookies, &query).await), "code").expect("a code");
    let redeem = || {
        reqwest::Client::new()
            .post(second.url("/oauth2/token"))
            .basic_auth(&id, secret.as_deref())
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
            ])
            .send()
    };
    let granted = redeem().await.unwrap();
    assert_eq!(granted.status(), StatusCode::OK);
    let access = granted.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(active(&first, &access).await, "valid on the first instance too");
    let again = redeem().await.unwrap();
    assert_eq!(
        again.json::<Value>().await.unwrap()["error"],
        "invalid_grant",
        "once, across instances"
    );
    let revoked = refused_within_a_second(&first, &access).await;
    assert!(
        revoked,
        "the reuse at one instance revokes on the other within a second"
    );
}
