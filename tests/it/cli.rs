//! The `authd` binary's commands: `migrate`, `admin create` and `health`.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use crate::common::{Backend, PASSWORD};

fn authd(backend: &Backend, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_authd"))
        .args(args)
        .env("AUTH_DATABASE_URL", &backend.database_url)
        .env("AUTH_JWT_KEY_FILE", backend.dir.join("jwt.pem"))
        .env("AUTH_OIDC_RSA_KEY_FILE", crate::common::fixture_rsa_key())
        .env("AUTH_LOG_FORMAT", "json")
        .env_remove("AUTH_REDIS_URL")
        .env_remove("AUTH_ADMIN_EMAIL")
        .env_remove("AUTH_ADMIN_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("authd runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

async fn migrate_then_create_an_admin_from_the_command_line(backend: Backend) {
    let migrated = authd(&backend, &["migrate"], "");
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );

    let args = ["admin", "create", "--email", "root@example.com", "--name", "Root"];
    let created = authd(&backend, &args, &format!("{PASSWORD}\n"));
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&created.stdout),
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(!logs.contains(PASSWORD), "the password must not be printed");

    let again = authd(&backend, &args, &format!("{PASSWORD}\n"));
    assert!(!again.status.success(), "a second admin with the same email is refused");
    let weak = authd(
        &backend,
        &["admin", "create", "--email", "weak@example.com", "--name", "Weak"],
        "password\n",
    );
    assert!(!weak.status.success(), "a weak password is refused");
    let breached = authd(
        &backend,
        &[
            "admin",
            "create",
            "--email",
            "breached@example.com",
            "--name",
            "Breached",
        ],
        "23WKoa0FP78dk\n",
    );
    assert!(!breached.status.success(), "a breached password is refused");
    assert!(
        String::from_utf8_lossy(&breached.stderr).contains("breaches"),
        "{}",
        String::from_utf8_lossy(&breached.stderr)
    );

    let server = backend.start().await;
    let admin = server.login("root@example.com").await;
    assert_eq!(
        server.get("/user", Some(&admin)).await.status,
        200,
        "the new account is an admin"
    );
    server.stop().await;
}

async fn the_start_up_admin_is_made_once(backend: Backend) {
    let (server, admin) = backend.start_with_admin(|_| {}).await;
    assert_eq!(server.get("/user", Some(&admin)).await.status, 200);
    server.stop().await;
    let (again, admin) = backend.start_with_admin(|_| {}).await;
    let listed = again.get("/user", Some(&admin)).await;
    assert_eq!(listed.body["list"].as_array().unwrap().len(), 1, "no duplicate admin");
    again.stop().await;
}

async fn the_health_check_passes_only_for_a_ready_server(backend: Backend) {
    let server = backend.start().await;
    let ready = authd(&backend, &["health", "--url", &server.url("/health/ready")], "");
    assert!(ready.status.success(), "{}", String::from_utf8_lossy(&ready.stderr));
    // Without --url it asks AUTH_LISTEN.
    let listen = server.server.addr.to_string();
    let by_listen = Command::new(env!("CARGO_BIN_EXE_authd"))
        .args(["health"])
        .env("AUTH_LISTEN", &listen)
        .output()
        .unwrap();
    assert!(
        by_listen.status.success(),
        "{}",
        String::from_utf8_lossy(&by_listen.stderr)
    );
    server.stop().await;
    let gone = authd(
        &backend,
        &["health", "--url", &format!("http://{listen}/health/ready")],
        "",
    );
    assert!(!gone.status.success(), "nothing listens any more");
}

backend_tests!(
    the_health_check_passes_only_for_a_ready_server,
    migrate_then_create_an_admin_from_the_command_line,
    the_start_up_admin_is_made_once
);

/// A server whose Redis is down answers 503 at readiness, and the health check fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis: `make test` runs it when they answer"]
async fn the_health_check_fails_while_a_dependency_is_down() {
    let mut backend = Backend::postgres_redis().await;
    let Some(mut redis) = crate::common::OwnedRedis::start().await else {
        return;
    };
    backend.redis_url = Some(redis.url.clone());
    let server = backend.start().await;
    let url = server.url("/health/ready");
    assert!(authd(&backend, &["health", "--url", &url], "").status.success());
    redis.stop();
    let failed = crate::common::eventually(std::time::Duration::from_secs(10), || {
        let (backend, url) = (&backend, &url);
        async move { !authd(backend, &["health", "--url", url], "").status.success() }
    })
    .await;
    assert!(failed, "the health check fails while Redis is down");
    let said = authd(&backend, &["health", "--url", &url], "");
    assert!(
        String::from_utf8_lossy(&said.stderr).contains("redis"),
        "it names what is down"
    );
}
