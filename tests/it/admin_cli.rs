//! The operator's commands (`authd user ...`, `authd session revoke`, `authd key rotate`),
//! run as a separate process against the database of a running server, whose answers show
//! their effect.

use std::process::Output;
use std::time::Duration;

use crate::common::{eventually, Backend, PASSWORD};
use serde_json::json;

/// Runs `authd` with the configuration of `backend`'s servers.
fn authd(backend: &Backend, args: &[&str]) -> Output {
    authd_with(backend, args, &[])
}

/// Runs `authd` with the configuration of `backend`'s servers and `extra` variables.
fn authd_with(backend: &Backend, args: &[&str], extra: &[(&str, &std::path::Path)]) -> Output {
    let mut command = crate::common::authd_command(backend);
    command.args(args);
    command.envs(extra.iter().map(|(k, v)| (*k, *v)));
    command.output().expect("authd runs")
}

fn ok(output: &Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn user_commands_take_effect_on_a_running_server(backend: Backend) {
    let server = backend.start().await;
    let (id, email, token) = server.new_session().await;

    let listed = ok(&authd(&backend, &["user", "list"]));
    assert!(listed.contains(&id) && listed.contains(&email), "{listed}");
    let shown = ok(&authd(&backend, &["user", "show", &email]));
    assert!(shown.contains(&id) && !shown.contains("argon2"), "{shown}");

    ok(&authd(&backend, &["user", "disable", &email]));
    let ended = eventually(Duration::from_secs(1), || async {
        server.get("/user/me", Some(&token)).await.status == 401
    })
    .await;
    assert!(ended, "a disabled account's sessions end within a second");
    let refused = server
        .post("/login", None, json!({ "email": email, "password": PASSWORD }))
        .await;
    refused.assert_problem(403, "account_disabled");
    let wrong = server
        .post(
            "/login",
            None,
            json!({ "email": email, "password": "not the password at all" }),
        )
        .await;
    wrong.assert_problem(401, "invalid_credentials");
    assert!(ok(&authd(&backend, &["user", "show", &id])).contains("(disabled)"));

    ok(&authd(&backend, &["user", "enable", &id]));
    let token = server.login(&email).await;
    ok(&authd(&backend, &["session", "revoke", "--user", &email]));
    let revoked = eventually(Duration::from_secs(1), || async {
        server.get("/user/me", Some(&token)).await.status == 401
    })
    .await;
    assert!(
        revoked,
        "revoked from the command line, refused by the server within a second"
    );

    ok(&authd(&backend, &["user", "delete", &email]));
    server
        .post("/login", None, json!({ "email": email, "password": PASSWORD }))
        .await
        .assert_problem(401, "invalid_credentials");
    assert!(!authd(&backend, &["user", "show", &email]).status.success());
    assert!(!authd(&backend, &["user", "disable", "nobody@example.com"])
        .status
        .success());
}

async fn key_rotate_keeps_old_tokens_valid_where_the_old_key_is_named(backend: Backend) {
    let server = backend.start().await;
    let (_, email, old_token) = server.new_session().await;
    let old_jwks = server.get("/.well-known/jwks.json", None).await.body;
    server.stop().await;

    let said = ok(&authd(&backend, &["key", "rotate"]));
    let previous = said
        .lines()
        .find_map(|line| line.strip_prefix("the old key is at "))
        .expect("where the old key went")
        .to_owned();
    assert_ne!(
        std::fs::read_to_string(&previous).unwrap(),
        std::fs::read_to_string(backend.dir.join("jwt.pem")).unwrap()
    );

    let previous_path = std::path::PathBuf::from(&previous);
    let server = backend
        .start_with(|c| c.jwt_previous_key_files = vec![previous_path])
        .await;
    assert_eq!(
        server.get("/user/me", Some(&old_token)).await.status,
        200,
        "old tokens stay valid"
    );
    let jwks = server.get("/.well-known/jwks.json", None).await.body;
    let ed25519 = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["kty"] == "OKP")
        .count();
    assert_eq!(ed25519, 2, "both public keys are published");
    let new_token = server.login(&email).await;
    assert_eq!(server.get("/user/me", Some(&new_token)).await.status, 200);
    let kids: Vec<&serde_json::Value> = jwks["keys"].as_array().unwrap().iter().map(|k| &k["kid"]).collect();
    assert!(
        kids.contains(&&old_jwks["keys"][0]["kid"]),
        "the old key's kid is still published"
    );
    assert_ne!(kids[0], kids[1], "beside a new one");
    server.stop().await;

    let without = backend.start().await;
    assert_eq!(
        without.get("/user/me", Some(&old_token)).await.status,
        401,
        "without the old key its tokens are refused"
    );
}

async fn the_id_token_key_rotates_and_its_old_public_key_stays_published(backend: Backend) {
    let key = backend.dir.join("oidc-rsa.pem");
    std::fs::create_dir_all(&backend.dir).unwrap();
    std::fs::copy(crate::common::fixture_rsa_key(), &key).unwrap();
    let rotated = ok(&authd_with(
        &backend,
        &["key", "rotate", "--id-token-key"],
        &[("AUTH_OIDC_RSA_KEY_FILE", &key)],
    ));
    let previous = rotated
        .lines()
        .find_map(|line| line.strip_prefix("the old key is at "))
        .expect("where the old key went")
        .to_owned();
    assert!(rotated.contains("AUTH_OIDC_PREVIOUS_RSA_KEY_FILES="), "{rotated}");
    let old = std::fs::read_to_string(&previous).unwrap();
    assert_eq!(old, std::fs::read_to_string(crate::common::fixture_rsa_key()).unwrap());
    assert_ne!(old, std::fs::read_to_string(&key).unwrap(), "a new key took its place");

    let server = backend
        .start_with(|c| {
            c.oidc_rsa_key_file = key.clone();
            c.oidc_previous_rsa_key_files = vec![previous.into()];
        })
        .await;
    let jwks = server.get("/.well-known/jwks.json", None).await.body;
    let rsa: Vec<&serde_json::Value> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["kty"] == "RSA")
        .collect();
    assert_eq!(rsa.len(), 2, "the new RSA key and the old one: {jwks}");
    assert_ne!(rsa[0]["kid"], rsa[1]["kid"]);
    assert!(
        rsa.iter().all(|k| k["alg"] == "RS256" && k.get("d").is_none()),
        "public halves only"
    );
    server.stop().await;
}

backend_tests!(
    the_id_token_key_rotates_and_its_old_public_key_stays_published,
    user_commands_take_effect_on_a_running_server,
    key_rotate_keeps_old_tokens_valid_where_the_old_key_is_named,
);
