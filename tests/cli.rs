//! The `authd` binary's commands: `migrate` and `admin create`.

mod common;

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use common::{Backend, PASSWORD};

fn authd(backend: &Backend, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_authd"))
        .args(args)
        .env("AUTH_DATABASE_URL", &backend.database_url)
        .env("AUTH_JWT_KEY_FILE", backend.dir.join("jwt.pem"))
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

backend_tests!(
    migrate_then_create_an_admin_from_the_command_line,
    the_start_up_admin_is_made_once
);
