//! Configuration, from the environment (or the equivalent command-line flags).
//! Every variable and default is the one `shared/API.md` documents.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use secrecy::SecretString;

use crate::crypto::password::HashCost;
use crate::domain::reset::PasswordResetPolicy;
use crate::domain::session::SessionPolicy;
use crate::domain::throttle::{Backoff, Limit, ThrottlePolicy};
use crate::domain::user::SignupMode;
use crate::domain::verification::{VerificationMode, VerificationPolicy};
use crate::telemetry::LogFormat;

/// Everything `authd serve` can be told.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// The upstream identity providers: only a configuration file declares them
    /// (`[upstream.<id>]`, see `upstream_config`).
    #[arg(skip)]
    pub upstreams: Vec<crate::upstream_config::UpstreamProvider>,
    /// Address to serve on.
    #[arg(long, env = "AUTH_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// `sqlite://...` or `postgres://...`.
    #[arg(long, env = "AUTH_DATABASE_URL", default_value = "sqlite://data/auth.db")]
    pub database_url: String,
    /// PostgreSQL: `on` makes each refresh wait until its rotation is on disk. `off` commits
    /// rotations asynchronously, as SQLite commits every write here: a crash of the database
    /// server may lose its last fraction of a second of rotations, and those clients sign
    /// in again. Other writes always wait.
    #[arg(long, env = "AUTH_DATABASE_FLUSH_ROTATIONS", default_value = "off", value_parser = on_off())]
    pub database_flush_rotations: bool,
    /// Redis for shared counters and the revocation exchange; unset means in-process.
    #[arg(long, env = "AUTH_REDIS_URL")]
    pub redis_url: Option<String>,
    /// Prefix of every Redis key and channel, so deployments can share a Redis.
    #[arg(long, env = "AUTH_REDIS_NAMESPACE", default_value = "authd")]
    pub redis_namespace: String,
    /// Base of links in e-mails.
    #[arg(long, env = "AUTH_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    pub public_url: String,
    /// Ed25519 private key (PKCS#8 PEM), generated when missing.
    #[arg(long, env = "AUTH_JWT_KEY_FILE", default_value = "data/jwt-ed25519.pem")]
    pub jwt_key_file: PathBuf,
    /// Keys rotated out (PEM files, comma-separated): tokens they signed stay valid until
    /// they expire, and their public keys stay in the JWKS.
    #[arg(long, env = "AUTH_JWT_PREVIOUS_KEY_FILES", value_delimiter = ',')]
    pub jwt_previous_key_files: Vec<PathBuf>,
    /// RSA private key (PKCS#8 PEM, 2048 bits or more) that signs OpenID Connect ID tokens
    /// (RS256), generated when missing; the same on every instance.
    #[arg(long, env = "AUTH_OIDC_RSA_KEY_FILE", default_value = "data/oidc-rsa.pem")]
    pub oidc_rsa_key_file: PathBuf,
    /// RSA keys rotated out (PEM files, comma-separated): their public keys stay in the JWKS.
    #[arg(long, env = "AUTH_OIDC_PREVIOUS_RSA_KEY_FILES", value_delimiter = ',')]
    pub oidc_previous_rsa_key_files: Vec<PathBuf>,
    /// `iss` claim of issued tokens.
    #[arg(long, env = "AUTH_JWT_ISSUER", default_value = "authd")]
    pub jwt_issuer: String,
    #[arg(long, env = "AUTH_TOKEN_TTL_SECS", default_value_t = 3600)]
    pub token_ttl_secs: u64,
    #[arg(long, env = "AUTH_SESSION_MAX_AGE_SECS", default_value_t = 604_800)]
    pub session_max_age_secs: u64,
    /// How long a rotated-away token still yields its successor.
    #[arg(long, env = "AUTH_REFRESH_GRACE_SECS", default_value_t = 10)]
    pub refresh_grace_secs: u64,
    /// `open` or `admin`.
    #[arg(long, env = "AUTH_SIGNUP", default_value = "open", value_parser = signup_mode())]
    pub signup: SignupMode,
    /// Make this admin at start-up if missing (with `AUTH_ADMIN_PASSWORD`).
    #[arg(long, env = "AUTH_ADMIN_EMAIL")]
    pub admin_email: Option<String>,
    #[arg(long, env = "AUTH_ADMIN_PASSWORD", hide_env_values = true, value_parser = secret)]
    pub admin_password: Option<SecretString>,
    /// `pretty` or `json`; default: pretty on a terminal, else json.
    #[arg(long, env = "AUTH_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// argon2id memory cost in KiB.
    #[arg(long, env = "AUTH_ARGON2_MEMORY_KIB", default_value_t = 19_456)]
    pub argon2_memory_kib: u32,
    #[arg(long, env = "AUTH_ARGON2_ITERATIONS", default_value_t = 2)]
    pub argon2_iterations: u32,
    #[arg(long, env = "AUTH_ARGON2_PARALLELISM", default_value_t = 1)]
    pub argon2_parallelism: u32,
    /// Password hashes run at once; default: the number of cores.
    #[arg(long, env = "AUTH_PASSWORD_WORKERS")]
    pub password_workers: Option<usize>,
    /// Password hashes that may wait for a worker before new ones get 503.
    #[arg(long, env = "AUTH_PASSWORD_QUEUE", default_value_t = 32)]
    pub password_queue: usize,
    /// Failed guesses (password, code, hash) at one account per window, from any client.
    #[arg(long, env = "AUTH_THROTTLE_ACCOUNT_FAILURES", default_value_t = 25)]
    pub throttle_account_failures: u64,
    /// Failed guesses from one client address per window, at any account.
    #[arg(long, env = "AUTH_THROTTLE_IP_FAILURES", default_value_t = 200)]
    pub throttle_ip_failures: u64,
    /// Sign-ups and reset requests naming one email address per window.
    #[arg(long, env = "AUTH_THROTTLE_ACCOUNT_REQUESTS", default_value_t = 10)]
    pub throttle_account_requests: u64,
    /// Sign-ups and reset requests from one client address per window.
    #[arg(long, env = "AUTH_THROTTLE_IP_REQUESTS", default_value_t = 100)]
    pub throttle_ip_requests: u64,
    /// Length of the throttle windows.
    #[arg(long, env = "AUTH_THROTTLE_WINDOW_SECS", default_value_t = 900)]
    pub throttle_window_secs: u64,
    /// Failures one account may take from one client back to back before backoff starts.
    #[arg(long, env = "AUTH_THROTTLE_FREE_FAILURES", default_value_t = 5)]
    pub throttle_free_failures: u64,
    /// First backoff wait; it doubles with each further failure.
    #[arg(long, env = "AUTH_THROTTLE_BACKOFF_BASE_MS", default_value_t = 1000)]
    pub throttle_backoff_base_ms: u64,
    /// Longest backoff wait.
    #[arg(long, env = "AUTH_THROTTLE_BACKOFF_CAP_SECS", default_value_t = 900)]
    pub throttle_backoff_cap_secs: u64,
    /// A connection that waits longer than this for a complete request head (a client that
    /// sends nothing or half its headers, or a kept-alive connection with no next request)
    /// is closed.
    #[arg(long, env = "AUTH_HTTP_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub http_header_timeout_secs: u64,
    /// A connection on which no byte moves either way for this long is closed (a body sent
    /// or read a byte at a time).
    #[arg(long, env = "AUTH_HTTP_IDLE_TIMEOUT_SECS", default_value_t = 60)]
    pub http_idle_timeout_secs: u64,
    /// Most connections open at once; further ones wait in the listen backlog until one
    /// closes. Keep it below the process's descriptor limit minus the database pool.
    #[arg(long, env = "AUTH_HTTP_MAX_CONNECTIONS", default_value_t = 4096)]
    pub http_max_connections: usize,
    /// Origins (`https://app.example`, comma-separated) that may call the token, userinfo,
    /// revocation, introspection, discovery and JWKS endpoints from a browser, besides the
    /// origins of registered redirect URIs.
    #[arg(long, env = "AUTH_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// How long a sign-in or a confirmation (`POST /login/confirm`) lets a session make
    /// sensitive changes: removing a factor, changing the e-mail, deleting the account.
    #[arg(long, env = "AUTH_REAUTH_WINDOW_SECS", default_value_t = 900)]
    pub reauth_window_secs: u64,
    /// Header a trusted reverse proxy puts the client address in (its last entry counts,
    /// e.g. `X-Forwarded-For`); unset: the peer address of the connection. Set it only
    /// behind a proxy that overwrites or appends to it, or clients can pick their address.
    #[arg(long, env = "AUTH_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,
    /// 32-byte hex key that digests codes and encrypts TOTP seeds and queued messages;
    /// generated when missing; the same on every instance.
    #[arg(long, env = "AUTH_DATA_KEY_FILE", default_value = "data/data-key")]
    pub data_key_file: PathBuf,
    /// `smtp://host:port` or `smtps://user:pass@host`; unset: messages go to the outbox folder.
    #[arg(long, env = "AUTH_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    #[arg(long, env = "AUTH_MAIL_FROM", default_value = "no-reply@localhost")]
    pub mail_from: String,
    #[arg(long, env = "AUTH_TWILIO_ACCOUNT_SID")]
    pub twilio_account_sid: Option<String>,
    #[arg(long, env = "AUTH_TWILIO_AUTH_TOKEN", hide_env_values = true, value_parser = secret)]
    pub twilio_auth_token: Option<SecretString>,
    /// SMS sender (E.164).
    #[arg(long, env = "AUTH_TWILIO_FROM")]
    pub twilio_from: Option<String>,
    /// WhatsApp sender (E.164); default: the SMS sender.
    #[arg(long, env = "AUTH_TWILIO_WHATSAPP_FROM")]
    pub twilio_whatsapp_from: Option<String>,
    #[arg(long, env = "AUTH_TWILIO_BASE_URL", default_value = "https://api.twilio.com")]
    pub twilio_base_url: String,
    /// Where messages go when SMTP or Twilio is not configured.
    #[arg(long, env = "AUTH_OUTBOX_DIR", default_value = "data/outbox")]
    pub outbox_dir: PathBuf,
    /// First retry delay of a failed delivery; it doubles each time.
    #[arg(long, env = "AUTH_NOTIFY_RETRY_BASE_MS", default_value_t = 1000)]
    pub notify_retry_base_ms: u64,
    /// Longest delay between delivery attempts.
    #[arg(long, env = "AUTH_NOTIFY_RETRY_CAP_SECS", default_value_t = 300)]
    pub notify_retry_cap_secs: u64,
    /// Attempts after which a message is recorded as failed.
    #[arg(long, env = "AUTH_NOTIFY_MAX_ATTEMPTS", default_value_t = 12)]
    pub notify_max_attempts: u32,
    /// How often the notification actor looks for due messages.
    #[arg(long, env = "AUTH_NOTIFY_POLL_MS", default_value_t = 1000)]
    pub notify_poll_ms: u64,
    /// How long a password reset link works.
    #[arg(long, env = "AUTH_PASSWORD_RESET_TTL_SECS", default_value_t = 1800)]
    pub password_reset_ttl_secs: u64,
    /// Reset e-mails per address per hour; further requests still answer 202.
    #[arg(long, env = "AUTH_PASSWORD_RESET_MAX_PER_HOUR", default_value_t = 3)]
    pub password_reset_max_per_hour: u64,
    /// On SIGTERM, how long in-flight requests may take before the server stops anyway.
    #[arg(long, env = "AUTH_SHUTDOWN_TIMEOUT_SECS", default_value_t = 20)]
    pub shutdown_timeout_secs: u64,
    /// How often each instance re-reads the revocation log and the sessions rotated lately:
    /// how rotations reach the other instances, the fallback when pub/sub misses a logout,
    /// and alone the 1 s bound during a Redis outage.
    #[arg(long, env = "AUTH_REVOCATION_CATCH_UP_MS", default_value_t = 500)]
    pub revocation_catch_up_ms: u64,
    /// `off`, `optional` (links are sent, sign-in does not wait) or `required`.
    #[arg(long, env = "AUTH_EMAIL_VERIFICATION", default_value = "optional", value_parser = verification_mode())]
    pub email_verification: VerificationMode,
    /// E-mails on password, factor, recovery code and address changes, and new devices.
    #[arg(long, env = "AUTH_SECURITY_NOTICES", default_value = "on", value_parser = on_off())]
    pub security_notices: bool,
    /// `offline` (the list in the binary), `hibp` (that list, then the Pwned Passwords
    /// range API) or `off`.
    #[arg(long, env = "AUTH_BREACHED_PASSWORDS", default_value = "offline", value_enum)]
    pub breached_passwords: BreachCheck,
    /// Base of the Pwned Passwords range API.
    #[arg(long, env = "AUTH_HIBP_URL", default_value = "https://api.pwnedpasswords.com")]
    pub hibp_url: String,
    /// Every security event is also POSTed here, signed with `AUTH_WEBHOOK_SECRET`.
    #[arg(long, env = "AUTH_WEBHOOK_URL")]
    pub webhook_url: Option<String>,
    #[arg(long, env = "AUTH_WEBHOOK_SECRET", hide_env_values = true, value_parser = secret)]
    pub webhook_secret: Option<SecretString>,
    /// How long security events are kept.
    #[arg(long, env = "AUTH_EVENTS_RETENTION_DAYS", default_value_t = 90)]
    pub events_retention_days: u64,
    /// The WebAuthn relying party ID; default: the host of `AUTH_PUBLIC_URL` (`localhost`
    /// when that is an IP address).
    #[arg(long, env = "AUTH_WEBAUTHN_RP_ID")]
    pub webauthn_rp_id: Option<String>,
    /// Origins passkeys may be used from (comma-separated); default: that of `AUTH_PUBLIC_URL`.
    #[arg(long, env = "AUTH_WEBAUTHN_ORIGINS", value_delimiter = ',')]
    pub webauthn_origins: Vec<String>,
    /// How often old events are pruned.
    #[arg(long, env = "AUTH_EVENTS_PRUNE_EVERY_SECS", default_value_t = 3600)]
    pub events_prune_every_secs: u64,
    /// Name shown on the hosted pages (title, header).
    #[arg(long, env = "AUTH_BRAND_NAME", default_value = "authd")]
    pub brand_name: String,
    /// Accent colour of the hosted pages, `#rrggbb`.
    #[arg(long, env = "AUTH_BRAND_COLOR", default_value = "#2f5bd3", value_parser = hex_colour)]
    pub brand_color: String,
    /// A PNG, SVG or JPEG logo shown on the hosted pages, read at start-up; unset: the name only.
    #[arg(long, env = "AUTH_BRAND_LOGO_FILE")]
    pub brand_logo_file: Option<PathBuf>,
}

/// Parses a `#rrggbb` colour (it goes into a stylesheet, so nothing else may pass).
fn hex_colour(text: &str) -> Result<String, String> {
    let digits = text.strip_prefix('#').unwrap_or_default();
    match digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        true => Ok(text.to_ascii_lowercase()),
        false => Err("expected a colour like #2f5bd3".to_owned()),
    }
}

/// `AUTH_BREACHED_PASSWORDS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BreachCheck {
    Offline,
    Hibp,
    Off,
}

/// Parses `AUTH_EMAIL_VERIFICATION`, listing its values in `--help`.
fn verification_mode() -> impl clap::builder::TypedValueParser<Value = VerificationMode> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(["off", "optional", "required"])
        .map(|text| text.parse::<VerificationMode>().expect("every listed value parses"))
}

/// Parses an `on`/`off` switch (`true`/`false` too).
fn on_off() -> impl clap::builder::TypedValueParser<Value = bool> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(["on", "off", "true", "false"]).map(|text| text == "on" || text == "true")
}

/// A setting that is a secret: kept out of `Debug` output and wiped when dropped.
fn secret(text: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(text))
}

/// Parses `AUTH_SIGNUP`, listing its values in `--help`.
fn signup_mode() -> impl clap::builder::TypedValueParser<Value = SignupMode> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(["open", "admin"])
        .map(|text| text.parse::<SignupMode>().expect("every listed value parses"))
}

impl Config {
    /// The configuration the environment gives, without reading command-line flags.
    pub fn from_env() -> Self {
        use clap::Parser;
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            config: Config,
        }
        Only::parse_from(["authd"]).config
    }

    pub fn session_policy(&self) -> SessionPolicy {
        SessionPolicy {
            token_ttl: Duration::from_secs(self.token_ttl_secs),
            session_max_age: Duration::from_secs(self.session_max_age_secs),
            refresh_grace: Duration::from_secs(self.refresh_grace_secs),
        }
    }

    pub fn hash_cost(&self) -> HashCost {
        HashCost {
            memory_kib: self.argon2_memory_kib,
            iterations: self.argon2_iterations,
            parallelism: self.argon2_parallelism,
        }
    }

    pub fn password_reset(&self) -> PasswordResetPolicy {
        PasswordResetPolicy {
            ttl: Duration::from_secs(self.password_reset_ttl_secs),
            max_per_window: self.password_reset_max_per_hour,
            rate_window: Duration::from_secs(3600),
            public_url: self.public_url.clone(),
        }
    }

    pub fn verification(&self) -> VerificationPolicy {
        VerificationPolicy {
            mode: self.email_verification,
            ttl: Duration::from_secs(86_400),
            max_per_window: self.password_reset_max_per_hour,
            rate_window: Duration::from_secs(3600),
            public_url: self.public_url.clone(),
        }
    }

    pub fn events_retention(&self) -> Duration {
        Duration::from_secs(self.events_retention_days.max(1) * 86_400)
    }

    pub fn throttle_policy(&self) -> ThrottlePolicy {
        let limit = |max| Limit {
            max,
            window: Duration::from_secs(self.throttle_window_secs.max(1)),
        };
        ThrottlePolicy {
            guesses_per_account: limit(self.throttle_account_failures),
            guesses_per_ip: limit(self.throttle_ip_failures),
            backoff: Backoff {
                free_failures: self.throttle_free_failures,
                base: Duration::from_millis(self.throttle_backoff_base_ms.max(1)),
                cap: Duration::from_secs(self.throttle_backoff_cap_secs.max(1)),
            },
            requests_per_account: limit(self.throttle_account_requests),
            requests_per_ip: limit(self.throttle_ip_requests),
        }
    }
}
