//! Token parsing: bearer headers, and tokens whose header, payload or signature are
//! arbitrary. Verification may only ever refuse; it must never panic or accept a token that
//! this signer did not sign.

#![no_main]

use std::sync::LazyLock;

use authd::crypto::jwt::TokenSigner;
use authd::domain::token::Claims;
use authd::http::extract::bearer_token;
use axum::http::{header, HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    signer: TokenSigner,
    token: String,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("authd-fuzz-{}", std::process::id()));
    let signer = TokenSigner::load_or_create(&dir.join("key.pem"), "authd").expect("a signing key");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = Claims {
        sub: uuid::Uuid::new_v4(),
        sid: uuid::Uuid::new_v4(),
        jti: uuid::Uuid::new_v4(),
        iat: now,
        exp: now + 3600,
        iss: "authd".into(),
        aud: None,
        client_id: None,
        scope: None,
        token_use: None,
    };
    let token = signer.sign(&claims);
    Fixture { signer, token }
});

fuzz_target!(|data: &[u8]| {
    let fixture = &*FIXTURE;
    if let Ok(value) = HeaderValue::from_bytes(data) {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, value);
        let _ = bearer_token(&headers);
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    assert!(fixture.signer.verify(text).is_err() || text == fixture.token);

    let parts: Vec<&str> = fixture.token.split('.').collect();
    for position in 0..3 {
        let mut spliced = parts.clone();
        spliced[position] = text;
        let candidate = spliced.join(".");
        if candidate != fixture.token {
            assert!(fixture.signer.verify(&candidate).is_err(), "accepted a forged token");
        }
    }
});
