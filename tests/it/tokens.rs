//! Token introspection and the JWKS other services verify with.

use crate::common::Backend;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

async fn a_token_verifies_offline_with_the_published_key(backend: Backend) {
    let server = backend.start().await;
    let (id, _, token) = server.new_session().await;
    let jwks = server.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks.status, 200);
    let key = &jwks.body["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");

    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), key["kid"].as_str());

    let decoding = DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&["authd"]);
    let claims = jsonwebtoken::decode::<Value>(&token, &decoding, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["sub"], id);
    for claim in ["sid", "jti", "iat", "exp", "iss"] {
        assert!(claims.get(claim).is_some(), "missing {claim}");
    }
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
    server.stop().await;
}

async fn introspection_reports_active_tokens_only(backend: Backend) {
    let server = backend.start().await;
    let (id, _, token) = server.new_session().await;
    let active = server.post("/token/introspect", None, json!({ "token": token })).await;
    assert_eq!(active.status, 200);
    assert_eq!(active.body["active"], true);
    assert_eq!(active.body["sub"], id);
    assert!(active.body["sid"].is_string() && active.body["exp"].is_i64());

    let mut forged = token.clone();
    let payload_start = forged.find('.').unwrap() + 1;
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
    claims["sub"] = json!("00000000-0000-0000-0000-000000000000");
    let payload_end = forged[payload_start..].find('.').unwrap() + payload_start;
    forged.replace_range(payload_start..payload_end, &URL_SAFE_NO_PAD.encode(claims.to_string()));
    let inactive = server.post("/token/introspect", None, json!({ "token": forged })).await;
    assert_eq!(inactive.body, json!({ "active": false }));

    server
        .request(reqwest::Method::POST, "/logout", Some(&token), None)
        .await;
    let revoked = server.post("/token/introspect", None, json!({ "token": token })).await;
    assert_eq!(revoked.body, json!({ "active": false }));
    server
        .post("/token/introspect", None, json!({}))
        .await
        .assert_problem(400, "validation_failed");
    server.stop().await;
}

async fn health_and_readiness_answer(backend: Backend) {
    let server = backend.start().await;
    let live = server.get("/health", None).await;
    assert_eq!(live.status, 200);
    assert_eq!(live.body, json!({ "status": "ok" }));
    let ready = server.get("/health/ready", None).await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    server.stop().await;
}

backend_tests!(
    a_token_verifies_offline_with_the_published_key,
    introspection_reports_active_tokens_only,
    health_and_readiness_answer,
);

async fn tokens_signed_before_a_key_rotation_stay_valid(backend: Backend) {
    let server = backend.start().await;
    let (_, _, old_token) = server.new_session().await;
    server.stop().await;

    let old_key = backend.dir.join("jwt-old.pem");
    std::fs::rename(backend.dir.join("jwt.pem"), &old_key).unwrap();
    let rotated = backend
        .start_with(|c| c.jwt_previous_key_files = vec![old_key.clone()])
        .await;
    assert_eq!(rotated.get("/user/me", Some(&old_token)).await.status, 200);
    let jwks = rotated.get("/.well-known/jwks.json", None).await;
    let ed25519 = |kty: &str| {
        jwks.body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["kty"] == kty)
            .count()
    };
    assert_eq!(ed25519("OKP"), 2, "both Ed25519 keys are published");
    assert_eq!(ed25519("RSA"), 1, "beside the RSA key of ID tokens");
    let (_, _, new_token) = rotated.new_session().await;
    let kid = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
    assert_ne!(kid(&new_token), kid(&old_token));
    assert_eq!(
        jwks.body["keys"][0]["kid"],
        kid(&new_token),
        "the current key comes first"
    );
    rotated.stop().await;

    let without_old_key = backend.start().await;
    without_old_key
        .get("/user/me", Some(&old_token))
        .await
        .assert_problem(401, "invalid_token");
    without_old_key.stop().await;
}

backend_tests!(tokens_signed_before_a_key_rotation_stay_valid);
