//! Test harness: starts the real server on a random port, on SQLite or on PostgreSQL + Redis,
//! and talks to it over HTTP like any client.
//!
//! PostgreSQL and Redis come from `AUTH_TEST_DATABASE_URL` / `AUTH_TEST_REDIS_URL` (default:
//! the local servers). The cases that need them are `#[ignore]`d, so a plain run lists them
//! as skipped; `scripts/run-tests.sh` (`make test`) includes them when the services answer
//! (`make ci` always), and then an unreachable service fails them.

#![allow(dead_code)]

pub mod browser;
pub mod oidc;
pub mod passkey;
pub mod proxy;
pub mod smtp;
pub mod twilio;
pub mod upstream;
pub mod webhook;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use authd::app::RunningServer;
use authd::config::Config;
use authd::ports::{Clock as _, ManualClock, SystemClock};
use fred::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::Connection as _;
use uuid::Uuid;

/// Runs one async test body on each backend: `backend_tests!(name);` for `async fn name(Backend)`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::common::Backend::sqlite()).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs PostgreSQL and Redis: `make test` runs it when they answer"]
                async fn postgres_redis() {
                    super::$name($crate::common::Backend::postgres_redis().await).await;
                }
            }
        )*
    };
}

pub const PASSWORD: &str = "correct horse battery staple";

/// Where a test's servers keep their state; every server started from one `Backend` shares it.
#[derive(Clone)]
pub struct Backend {
    pub database_url: String,
    pub redis_url: Option<String>,
    pub redis_namespace: String,
    /// Holds the signing key (and the SQLite file).
    pub dir: PathBuf,
}

impl Backend {
    /// A fresh SQLite database in a new temporary folder.
    pub fn sqlite() -> Self {
        let dir = temp_dir();
        Self {
            database_url: format!("sqlite://{}", dir.join("auth.db").display()),
            redis_url: None,
            redis_namespace: "unused".into(),
            dir,
        }
    }

    /// A fresh PostgreSQL database and a Redis namespace of its own; panics when the
    /// services do not answer (the cases that call this are ignored unless they do).
    pub async fn postgres_redis() -> Self {
        let admin_url = std::env::var("AUTH_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let redis_url = std::env::var("AUTH_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let database = format!("authd_test_{}", Uuid::new_v4().simple());
        let created = async {
            let mut conn = sqlx::PgConnection::connect(&admin_url).await?;
            sqlx::query(&format!("CREATE DATABASE {database}"))
                .execute(&mut conn)
                .await?;
            redis_client(&redis_url).await?;
            anyhow::Ok(())
        };
        match tokio::time::timeout(Duration::from_secs(5), created).await {
            Ok(Ok(())) => {}
            outcome => {
                let reason = match outcome {
                    Ok(Err(err)) => err.to_string(),
                    _ => "timed out".into(),
                };
                panic!("PostgreSQL/Redis unreachable: {reason}");
            }
        }
        let (base, _) = admin_url.rsplit_once('/').expect("database URL has a path");
        Self {
            database_url: format!("{base}/{database}"),
            redis_url: Some(redis_url),
            redis_namespace: format!("authd-test-{}", Uuid::new_v4().simple()),
            dir: temp_dir(),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres")
    }

    /// A server configuration on this backend, listening on a random port.
    pub fn config(&self) -> Config {
        let mut config = Config::from_env();
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.database_url = self.database_url.clone();
        config.redis_url = self.redis_url.clone();
        config.redis_namespace = self.redis_namespace.clone();
        config.jwt_key_file = self.dir.join("jwt.pem");
        config.oidc_rsa_key_file = fixture_rsa_key();
        config.admin_email = None;
        config.admin_password = None;
        config.revocation_catch_up_ms = 500;
        config.data_key_file = self.dir.join("data-key");
        config.outbox_dir = self.dir.join("outbox");
        config.smtp_url = None;
        config.twilio_account_sid = None;
        config.notify_poll_ms = 100;
        config.notify_retry_base_ms = 100;
        config.notify_retry_cap_secs = 1;
        // Verification links and security notices are mail the tests of other capabilities
        // would have to wait past; the tests of account security turn them on.
        config.email_verification = authd::domain::verification::VerificationMode::Off;
        config.security_notices = false;
        config
    }

    pub async fn start(&self) -> TestServer {
        self.start_with(|_| {}).await
    }

    /// Starts a server after `adjust` has changed its configuration.
    pub async fn start_with(&self, adjust: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = self.config();
        adjust(&mut config);
        let server = RunningServer::start(&config).await.expect("server starts");
        TestServer {
            server,
            http: reqwest::Client::new(),
        }
    }

    /// [`Backend::start_with`] on a manual clock showing the present: the test moves it
    /// past an expiry instead of sleeping. Only the server's rules read it; timers (the
    /// cache's own expiry, the actors' polling) keep real time.
    pub async fn start_on_clock(&self, adjust: impl FnOnce(&mut Config)) -> (TestServer, Arc<ManualClock>) {
        let mut config = self.config();
        adjust(&mut config);
        let clock = Arc::new(ManualClock::at(SystemClock.unix_now()));
        let server = RunningServer::start_with_clock(&config, clock.clone())
            .await
            .expect("server starts");
        let server = TestServer {
            server,
            http: reqwest::Client::new(),
        };
        (server, clock)
    }
}

pub async fn redis_client(url: &str) -> anyhow::Result<Client> {
    let client = Client::new(fred::prelude::Config::from_url(url)?, None, None, None);
    client.init().await?;
    Ok(client)
}

/// The `authd` binary set up with the configuration of `backend`'s servers (database,
/// keys, Redis), for the command-line tests.
pub fn authd_command(backend: &Backend) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_authd"));
    command
        .env("AUTH_DATABASE_URL", &backend.database_url)
        .env("AUTH_JWT_KEY_FILE", backend.dir.join("jwt.pem"))
        .env("AUTH_OIDC_RSA_KEY_FILE", fixture_rsa_key())
        .env("AUTH_DATA_KEY_FILE", backend.dir.join("data-key"))
        .env("AUTH_OUTBOX_DIR", backend.dir.join("outbox"))
        .env("AUTH_REDIS_NAMESPACE", &backend.redis_namespace)
        .env("AUTH_LOG_FORMAT", "json")
        .env_remove("AUTH_ADMIN_EMAIL")
        .env_remove("AUTH_ADMIN_PASSWORD");
    match &backend.redis_url {
        Some(url) => command.env("AUTH_REDIS_URL", url),
        None => command.env_remove("AUTH_REDIS_URL"),
    };
    command
}

/// The test RSA key every server loads instead of generating its own (see tests/fixtures).
pub fn fixture_rsa_key() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oidc-rsa.pem")
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("authd-test-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running server and an HTTP client for it.
pub struct TestServer {
    pub server: RunningServer,
    pub http: reqwest::Client,
}

/// An answer: status, headers and the body parsed as JSON (`Value::Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Asserts a problem+json error with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        assert_eq!(self.content_type(), "application/problem+json", "body: {}", self.body);
        assert_eq!(self.body["code"], code, "body: {}", self.body);
        assert_eq!(self.body["status"], status);
        assert_eq!(self.body["type"], "about:blank");
        assert!(self.body["title"].is_string());
    }

    pub fn token(&self) -> String {
        self.body["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token in {}", self.body))
            .to_owned()
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.request(Method::PATCH, path, token, Some(body)).await
    }

    /// Signs up a user with [`PASSWORD`] and returns their id.
    pub async fn sign_up(&self, name: &str, email: &str) -> String {
        let answer = self
            .post(
                "/user",
                None,
                json!({ "name": name, "email": email, "password": PASSWORD }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        answer.body["id"].as_str().unwrap().to_owned()
    }

    pub async fn login(&self, email: &str) -> String {
        let answer = self
            .post("/login", None, json!({ "email": email, "password": PASSWORD }))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.token()
    }

    /// Changes the password of the holder of `token` from [`PASSWORD`] to `new`.
    pub async fn change_password(&self, token: &str, new: &str) -> Answer {
        let body = json!({ "currentPassword": PASSWORD, "newPassword": new });
        self.patch("/user/password", Some(token), body).await
    }

    /// Logs in as `email` from a client calling itself `user_agent`; returns the token.
    pub async fn login_from(&self, email: &str, user_agent: &str) -> String {
        let response = self
            .http
            .post(self.url("/login"))
            .header("user-agent", user_agent)
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .expect("request sent");
        let answer = answer(response).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.token()
    }

    /// Signs up a fresh user and logs in; returns (user id, email, token).
    pub async fn new_session(&self) -> (String, String, String) {
        let email = format!("user-{}@example.com", Uuid::new_v4().simple());
        let id = self.sign_up("Test User", &email).await;
        let token = self.login(&email).await;
        (id, email, token)
    }

    /// The value of one series in `/metrics`, e.g. `name{label="value"}`; 0 when absent.
    pub async fn metric(&self, series: &str) -> f64 {
        let text = self
            .http
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let prefix = format!("{series} ");
        text.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .map_or(0.0, |value| value.trim().parse().unwrap())
    }

    pub async fn stop(self) {
        self.server.stop().await.expect("server stops cleanly");
    }
}

pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body read");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    Answer { status, headers, body }
}

pub const ADMIN_EMAIL: &str = "admin@example.com";

impl Backend {
    /// Starts a server that creates [`ADMIN_EMAIL`] at start-up (`AUTH_ADMIN_EMAIL`), and
    /// returns it with an admin token.
    pub async fn start_with_admin(&self, adjust: impl FnOnce(&mut Config)) -> (TestServer, String) {
        let server = self
            .start_with(|config| {
                config.admin_email = Some(ADMIN_EMAIL.into());
                config.admin_password = Some(PASSWORD.into());
                adjust(config);
            })
            .await;
        let token = server.login(ADMIN_EMAIL).await;
        (server, token)
    }

    /// [`Backend::start_with_admin`] on a manual clock (see [`Backend::start_on_clock`]).
    pub async fn start_with_admin_on_clock(
        &self,
        adjust: impl FnOnce(&mut Config),
    ) -> (TestServer, String, Arc<ManualClock>) {
        let (server, clock) = self
            .start_on_clock(|config| {
                config.admin_email = Some(ADMIN_EMAIL.into());
                config.admin_password = Some(PASSWORD.into());
                adjust(config);
            })
            .await;
        let token = server.login(ADMIN_EMAIL).await;
        (server, token, clock)
    }
}

/// Polls `check` every 20 ms until it holds or `within` passes; returns whether it held.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A Redis server of the test's own, on a free port, stopped when dropped; for tests that
/// flush or stop Redis, which must never touch the Redis other tests share.
pub struct OwnedRedis {
    child: Option<std::process::Child>,
    port: u16,
    pub url: String,
}

impl OwnedRedis {
    /// Starts `redis-server`, or returns `None` (skipped) when it is not installed, unless
    /// services are required.
    pub async fn start() -> Option<Self> {
        let port = smtp::free_port();
        let child = match spawn_redis(port) {
            Ok(child) => child,
            Err(err) => {
                let required = std::env::var("AUTH_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1");
                assert!(!required, "redis-server required but not startable: {err}");
                eprintln!("SKIPPED: redis-server not startable ({err})");
                return None;
            }
        };
        let mut redis = Self {
            child: Some(child),
            port,
            url: format!("redis://127.0.0.1:{port}"),
        };
        redis.wait_until_up().await;
        Some(redis)
    }

    /// Stops the server (an outage); its data is gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub async fn restart(&mut self) {
        self.stop();
        self.child = Some(spawn_redis(self.port).expect("redis-server restarts"));
        self.wait_until_up().await;
    }

    async fn wait_until_up(&mut self) {
        let url = self.url.clone();
        let up = eventually(Duration::from_secs(5), || {
            let url = url.clone();
            async move { redis_client(&url).await.is_ok() }
        })
        .await;
        assert!(up, "own redis-server did not come up");
    }
}

fn spawn_redis(port: u16) -> std::io::Result<std::process::Child> {
    std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
}

impl Drop for OwnedRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
