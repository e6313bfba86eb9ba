//! Operations: metrics, logs that never carry a secret, graceful shutdown on SIGTERM.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::smtp::free_port;
use crate::common::{Backend, PASSWORD};
use serde_json::{json, Value};

async fn metrics_cover_http_actors_and_the_domain_without_raw_paths(backend: Backend) {
    let server = backend.start().await;
    let (_, _, token) = server.new_session().await;
    let refreshed = server.get(&format!("/login/refresh/{token}"), None).await;
    assert_eq!(refreshed.status, 200);
    server.get("/no/such/route", None).await;

    let metrics = server.http.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(metrics.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = metrics.text().await.unwrap();
    for expected in [
        r#"authd_http_requests_total{method="GET",route="/login/refresh/{token}",status="200"}"#,
        r#"authd_http_requests_total{method="GET",route="unmatched",status="404"}"#,
        "authd_http_request_duration_seconds_bucket",
        r#"authd_actor_messages_total{actor="sessions",message="open"}"#,
        r#"authd_actor_messages_total{actor="sessions",message="refresh"}"#,
        r#"authd_actor_handling_seconds_bucket{actor="sessions""#,
        r#"authd_actor_mailbox_depth{actor="sessions"}"#,
        r#"authd_logins_total{outcome="ok"}"#,
        "authd_tokens_issued_total",
        "authd_tokens_refreshed_total",
        "authd_tokens_revoked_total",
    ] {
        assert!(text.contains(expected), "missing {expected} in\n{text}");
    }
    assert!(!text.contains(&token), "a token leaked into the metrics");
    assert!(!text.contains("/no/such/route"), "raw paths never become labels");
    server.stop().await;
}

/// How many security events of `kind` `/metrics` counts so far.
async fn events_counted(server: &crate::common::TestServer, kind: &str) -> f64 {
    server
        .metric(&format!("authd_security_events_total{{type=\"{kind}\"}}"))
        .await
}

async fn security_events_are_counted_by_type(backend: Backend) {
    let server = backend.start().await;
    let kinds = ["user.created", "login.succeeded", "login.failed", "session.revoked"];
    let mut before = Vec::new();
    for kind in kinds {
        before.push(events_counted(&server, kind).await);
    }
    let (_, email, token) = server.new_session().await;
    let wrong = json!({ "email": email, "password": "not the password at all" });
    server
        .post("/login", None, wrong)
        .await
        .assert_problem(401, "invalid_credentials");
    assert_eq!(server.post("/logout", Some(&token), json!({})).await.status, 200);
    for (kind, before) in kinds.into_iter().zip(before) {
        let after = events_counted(&server, kind).await;
        assert!(after > before, "{kind}: {before} before, {after} after");
    }
    server.stop().await;
}

backend_tests!(
    metrics_cover_http_actors_and_the_domain_without_raw_paths,
    security_events_are_counted_by_type
);

/// The real binary, on the embedded default in a temporary folder, logging JSON. What it
/// prints is read as it comes (a full pipe would stop the server mid-request).
struct Binary {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
    printed: Vec<std::thread::JoinHandle<String>>,
}

/// Reads `stream` to its end on a thread of its own.
fn drain(mut stream: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stream.read_to_string(&mut text);
        text
    })
}

impl Binary {
    async fn start(extra_env: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!("authd-bin-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_authd"));
        command
            .current_dir(&dir)
            .env("AUTH_LISTEN", format!("127.0.0.1:{port}"))
            .env("AUTH_LOG_FORMAT", "json")
            .env("AUTH_NOTIFY_POLL_MS", "100")
            .env_remove("AUTH_DATABASE_URL")
            .env_remove("AUTH_REDIS_URL")
            .env_remove("AUTH_SMTP_URL")
            .env_remove("AUTH_ADMIN_EMAIL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in extra_env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("authd starts");
        let printed = vec![drain(child.stdout.take().unwrap()), drain(child.stderr.take().unwrap())];
        let binary = Self {
            child,
            port,
            dir,
            printed,
        };
        let http = reqwest::Client::new();
        let url = binary.url("/health");
        let up = crate::common::eventually(Duration::from_secs(20), || {
            let (http, url) = (http.clone(), url.clone());
            async move { http.get(&url).send().await.is_ok() }
        })
        .await;
        assert!(up, "the binary answers /health");
        binary
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit; returns whether it succeeded and all it printed.
    fn wait(mut self) -> (bool, String) {
        let status = self.child.wait().unwrap();
        let output: String = self.printed.drain(..).map(|reader| reader.join().unwrap()).collect();
        let _ = std::fs::remove_dir_all(&self.dir);
        (status.success(), output)
    }
}

async fn post(http: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut request = http.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    response.json().await.unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_ever_reaches_the_logs() {
    let binary = Binary::start(&[("RUST_LOG", "debug")]).await;
    let http = reqwest::Client::new();
    let email = "logs@example.com";
    post(
        &http,
        binary.url("/user"),
        None,
        json!({ "name": "Logs", "email": email, "password": PASSWORD }),
    )
    .await;
    let token = post(
        &http,
        binary.url("/login"),
        None,
        json!({ "email": email, "password": PASSWORD }),
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let refreshed = http
        .get(binary.url(&format!("/login/refresh/{token}")))
        .send()
        .await
        .unwrap();
    let token = refreshed.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let totp = post(&http, binary.url("/mfa"), Some(&token), json!({ "strategy": "TOTP" })).await;
    let secret = totp["secret"].as_str().unwrap().to_owned();
    let email_factor = post(&http, binary.url("/mfa"), Some(&token), json!({ "strategy": "EMAIL" })).await;
    assert!(email_factor["mfaId"].is_string());
    post(&http, binary.url("/password/forget"), None, json!({ "email": email })).await;
    post(
        &http,
        binary.url("/login"),
        None,
        json!({ "email": email, "password": "a wrong password" }),
    )
    .await;

    // The messages went to the outbox folder; read the code and the reset hash from there.
    let outbox = binary.dir.join("data/outbox");
    let found = crate::common::eventually(Duration::from_secs(5), || {
        let outbox = outbox.clone();
        async move { std::fs::read_dir(&outbox).map(|d| d.count() >= 3).unwrap_or(false) }
    })
    .await;
    assert!(
        found,
        "the verification link, the code and the reset link reached the outbox folder"
    );
    let mut secrets = vec![PASSWORD.to_owned(), token.clone(), secret];
    for entry in std::fs::read_dir(&outbox).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        if let Some(at) = text.find("code is ") {
            secrets.push(text[at + 8..at + 14].to_owned());
        }
        if let Some(at) = text.find("hash=") {
            secrets.push(text[at + 5..].split_whitespace().next().unwrap().to_owned());
        }
    }
    assert_eq!(
        secrets.len(),
        6,
        "password, token, TOTP seed, code, verification and reset hashes: {secrets:?}"
    );
    let key = std::fs::read_to_string(binary.dir.join("data/data-key")).unwrap();
    secrets.push(key.trim().to_owned());

    binary.terminate();
    let (_, logs) = binary.wait();
    assert!(
        logs.contains("\"route\":\"/login/refresh/{token}\""),
        "requests are logged by route"
    );
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a secret reached the logs: {secret}");
    }
    let first_half_of_token = &token[..token.len() / 2];
    assert!(!logs.contains(first_half_of_token));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_requests_in_flight_and_exits_cleanly() {
    // Sixteen parallel logins of one account from one client would otherwise meet the backoff.
    let binary = Binary::start(&[("AUTH_THROTTLE_FREE_FAILURES", "1000")]).await;
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let email = "drain@example.com";
    post(
        &http,
        binary.url("/user"),
        None,
        json!({ "name": "Drain", "email": email, "password": PASSWORD }),
    )
    .await;

    let logins: Vec<_> = (0..16)
        .map(|_| {
            let request = http
                .post(binary.url("/login"))
                .json(&json!({ "email": email, "password": PASSWORD }));
            tokio::spawn(async move { request.send().await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(30)).await;
    binary.terminate();
    let mut answered = 0;
    for login in logins {
        match login.await.unwrap() {
            Ok(response) => {
                let status = response.status().as_u16();
                assert!(status == 200 || status == 503, "an in-flight login got {status}");
                assert!(response.bytes().await.is_ok(), "the whole answer arrived");
                answered += 1;
            }
            Err(err) => assert!(err.is_connect(), "a request failed without an answer: {err:?}"),
        }
    }
    assert!(answered > 0, "requests in flight were answered");
    let (success, logs) = binary.wait();
    assert!(success, "exit status 0; logs:\n{logs}");
    assert!(logs.contains("shutting down") && logs.contains("\"stopped\""), "{logs}");
}

/// The socket address a test server listens on.
fn address_of(server: &crate::common::TestServer) -> std::net::SocketAddr {
    let url = server.url("");
    url.trim_start_matches("http://").trim_end_matches('/').parse().unwrap()
}

/// Writes `sent` on a new connection to `addr`, then waits for the server to close it;
/// whether it closed within `within`.
async fn closed_by_server(addr: std::net::SocketAddr, sent: &'static [u8], within: Duration) -> bool {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(sent).await.unwrap();
    let mut buffer = [0u8; 512];
    let read = tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    });
    read.await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_and_never_keep_others_from_being_served() {
    let backend = Backend::sqlite();
    let server = backend
        .start_with(|c| {
            c.http_header_timeout_secs = 1;
            c.http_idle_timeout_secs = 2;
        })
        .await;
    let addr = address_of(&server);
    let mut hostile = Vec::new();
    for n in 0..120 {
        let sent: &'static [u8] = match n % 3 {
            0 => b"",
            1 => b"GET /health HT",
            _ => b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ",
        };
        hostile.push(tokio::spawn(closed_by_server(addr, sent, Duration::from_secs(6))));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..5 {
        assert_eq!(
            server.get("/health", None).await.status,
            200,
            "others are served meanwhile"
        );
    }
    for connection in hostile {
        assert!(
            connection.await.unwrap(),
            "a connection that sends nothing or half a head is closed"
        );
    }
    let half_body =
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{";
    assert!(
        closed_by_server(addr, half_body, Duration::from_secs(30)).await,
        "a body that stops coming is cut off"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_connection_cap_new_connections_wait_for_a_free_one() {
    let backend = Backend::sqlite();
    let server = backend
        .start_with(|c| {
            c.http_header_timeout_secs = 1;
            c.http_max_connections = 4;
        })
        .await;
    let addr = address_of(&server);
    let mut silent = Vec::new();
    for _ in 0..4 {
        silent.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let waiting = tokio::spawn({
        let url = server.url("/health");
        async move { reqwest::get(url).await.map(|r| r.status().as_u16()) }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "the fifth connection waits while four are open");
    assert_eq!(
        waiting.await.unwrap().unwrap(),
        200,
        "served once the silent ones are cut off"
    );
    drop(silent);
}
