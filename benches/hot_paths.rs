//! Benchmarks of the hot paths: argon2id verification at the default cost, token signing
//! and verification, and the revocation check every protected request makes.
//! Run with `cargo bench --bench hot_paths`.

use authd::crypto::jwt::TokenSigner;
use authd::crypto::password::{HashCost, PasswordHasher};
use authd::domain::revocation::{Revocation, RevokedSet, RevokedSubject};
use authd::domain::token::Claims;
use authd::ports::PasswordHashing as _;
use criterion::{criterion_group, criterion_main, Criterion};
use uuid::Uuid;

fn argon2_verify(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let hasher = PasswordHasher::new(HashCost::default(), 1, 8).unwrap();
    let hash = runtime
        .block_on(hasher.hash("correct horse battery staple".into()))
        .unwrap();
    let mut group = c.benchmark_group("argon2id");
    group.sample_size(30);
    group.bench_function("verify (m=19456 KiB, t=2, p=1)", |b| {
        b.to_async(&runtime)
            .iter(|| hasher.verify("correct horse battery staple".into(), Some(hash.clone())))
    });
    group.finish();
}

fn tokens(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("authd-bench-{}", Uuid::new_v4().simple()));
    let signer = TokenSigner::load_or_create(&dir.join("key.pem"), "authd").unwrap();
    let claims = Claims {
        sub: Uuid::new_v4(),
        sid: Uuid::new_v4(),
        jti: Uuid::new_v4(),
        iat: 1_800_000_000,
        exp: 1_800_003_600,
        iss: "authd".into(),
        aud: None,
        client_id: None,
        scope: None,
        token_use: None,
    };
    let token = signer.sign(&claims);
    c.bench_function("token sign (EdDSA)", |b| b.iter(|| signer.sign(&claims)));
    c.bench_function("token verify (EdDSA)", |b| b.iter(|| signer.verify(&token).unwrap()));
    let _ = std::fs::remove_dir_all(dir);
}

fn revocation_check(c: &mut Criterion) {
    let mut set = RevokedSet::default();
    for _ in 0..100_000 {
        set.insert(Revocation {
            subject: RevokedSubject::Token(Uuid::new_v4()),
            until: i64::MAX,
        });
    }
    let (sid, jti) = (Uuid::new_v4(), Uuid::new_v4());
    c.bench_function("revocation check (100k revoked)", |b| {
        b.iter(|| set.is_revoked(sid, jti))
    });
}

criterion_group!(benches, argon2_verify, tokens, revocation_check);
criterion_main!(benches);
