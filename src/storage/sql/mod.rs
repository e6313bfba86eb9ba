//! SQLite and PostgreSQL behind one adapter, through sqlx's `Any` driver: both schemas use
//! only text and 64-bit integers, so the same statements serve both and cannot drift apart.
//! Each database keeps its own migration set under `migrations/`.
//!
//! This file holds the pools, the migrations and the helpers every store shares; each port
//! has its own file (`users`, `sessions`, `organizations`, `mfa`, `password_resets`,
//! `verifications`, `events`, `outbox`), `deletion` erases an account, `ephemeral` is the
//! shared cache of MFA challenges and ceremonies on PostgreSQL, and `batch`,
//! `refreshes` and `profiles` exist for speed.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Connection, Executor, Row};
use uuid::Uuid;

use crate::domain::credential::Holder;
use crate::domain::session::Session;
use crate::ports::{Constraint, EventFanOut, StoreError};

mod batch;
mod clients;
mod codes;
mod consents;
mod deletion;
mod ephemeral;
mod events;
mod identities;
mod links;
mod mfa;
mod organizations;
mod outbox;
mod passkeys;
mod password_resets;
mod profiles;
mod refreshes;
mod sessions;
mod users;
mod verifications;

use batch::Batcher;
use profiles::{ForgetWhenDone, ProfileCache};
use refreshes::Rotation;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// Which database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlBackend {
    Sqlite,
    Postgres,
}

impl SqlBackend {
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres)
        } else {
            anyhow::bail!("AUTH_DATABASE_URL must start with sqlite:// or postgres://")
        }
    }
}

/// How long a PostgreSQL connection may sit idle before it is pinged ahead of its next query.
const POSTGRES_IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// The SQL adapter of every store port.
#[derive(Clone)]
pub struct SqlStore {
    /// Reads.
    pool: AnyPool,
    /// Writes: a single connection on SQLite, the same pool as reads on PostgreSQL.
    writer: AnyPool,
    backend: SqlBackend,
    /// Recently read profiles (see [`profiles`]).
    profiles: Arc<ProfileCache>,
    /// The two statements of a refresh, batched (see [`refreshes`]). Rotations go through
    /// the writer on SQLite; on PostgreSQL, through connections of their own that commit
    /// without waiting for the flush unless [`SqlOptions::flush_rotations`] says otherwise.
    session_reads: Arc<Batcher<Uuid, Option<(Session, Holder)>>>,
    rotations: Arc<Batcher<Rotation, bool>>,
    rotations_of_current: Arc<Batcher<Rotation, Option<Session>>>,
    /// What follows each event written (see [`events`]).
    fan_out: Arc<dyn EventFanOut>,
}

/// How the store uses its database, beyond the URL.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqlOptions {
    /// PostgreSQL: whether each refresh waits until its rotation is flushed to the
    /// write-ahead log. Off by default: a rotation then commits asynchronously, as every
    /// write does on the embedded default (SQLite's WAL with `synchronous = NORMAL`), and a
    /// crash of the database server can lose the rotations of its last fraction of a
    /// second; the clients who refreshed then present a token the session never heard of,
    /// which counts as reuse and ends the session (they sign in again). Every other write
    /// (a logout, a revocation, an account change) always waits for the flush.
    pub flush_rotations: bool,
}

impl SqlStore {
    /// Connects with the default [`SqlOptions`].
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Self::connect_with(url, SqlOptions::default()).await
    }

    /// Connects (creating the SQLite file and its folder when missing).
    pub async fn connect_with(url: &str, settings: SqlOptions) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = SqlBackend::from_url(url)?;
        let url = match backend {
            SqlBackend::Sqlite => prepare_sqlite_url(url)?,
            SqlBackend::Postgres => url.to_owned(),
        };
        let options = |max_connections| {
            let options = AnyPoolOptions::new()
                .acquire_timeout(Duration::from_secs(5))
                .max_connections(max_connections)
                // sqlx would ping every connection before every query: a round trip each. A
                // local SQLite file cannot drop its connection, so it never needs one; a
                // PostgreSQL connection is pinged only after an idle spell (see below).
                .test_before_acquire(false);
            match backend {
                SqlBackend::Sqlite => options.after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
                        )
                        .await?;
                        Ok(())
                    })
                }),
                // A connection in steady use has just proved itself; one idle for a while
                // may have been cut (a database restart, a proxy's idle timeout) and is
                // checked, and replaced when dead, before it serves a query.
                SqlBackend::Postgres => options.before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= POSTGRES_IDLE_BEFORE_PING {
                            conn.ping().await?;
                        }
                        Ok(true)
                    })
                }),
            }
        };
        let (pool, writer, rotation_writer) = match backend {
            // Every in-memory connection is a database of its own: one connection does all.
            SqlBackend::Sqlite if url.contains(":memory:") => {
                let pool = options(1).connect(&url).await?;
                (pool.clone(), pool.clone(), pool)
            }
            // SQLite takes one writer at a time. Writers queue for the single write
            // connection here instead of colliding on the file lock, where SQLite's busy
            // handler would put them to sleep for milliseconds.
            SqlBackend::Sqlite => {
                let writer = options(1).connect(&url).await?;
                (options(8).connect(&url).await?, writer.clone(), writer)
            }
            SqlBackend::Postgres => {
                let pool = options(16).connect(&url).await?;
                // One connection per rotation statement in flight. A rotation's plan does
                // not depend on its values (every row is found by its primary key), so it
                // is planned once per connection rather than at each execution.
                let rotation_writer = if settings.flush_rotations {
                    pool.clone()
                } else {
                    options(batch::IN_FLIGHT as u32)
                        .after_connect(|conn, _| {
                            Box::pin(async move {
                                conn.execute("SET synchronous_commit = off; SET plan_cache_mode = force_generic_plan;")
                                    .await?;
                                Ok(())
                            })
                        })
                        .connect(&url)
                        .await?
                };
                (pool.clone(), pool, rotation_writer)
            }
        };
        let profiles = Arc::new(ProfileCache::new(match backend {
            SqlBackend::Sqlite => profiles::SQLITE_TTL,
            SqlBackend::Postgres => profiles::SHARED_TTL,
        }));
        Ok(Self {
            session_reads: Arc::new(refreshes::session_reads(pool.clone())),
            rotations: Arc::new(refreshes::rotations(rotation_writer.clone())),
            rotations_of_current: Arc::new(refreshes::rotations_of_current(rotation_writer.clone())),
            pool,
            writer,
            backend,
            profiles,
            fan_out: Arc::new(events::Silent),
        })
    }

    /// Whether other instances may write the same database (PostgreSQL), rather than
    /// this process alone (SQLite).
    pub fn is_shared(&self) -> bool {
        self.backend == SqlBackend::Postgres
    }

    /// The same store, handing each event it writes to `fan_out` (webhook, metrics).
    pub fn with_fan_out(mut self, fan_out: Arc<dyn EventFanOut>) -> Self {
        self.fan_out = fan_out;
        self
    }

    /// Taken at the start of a write that may change `user`'s profile: forgets the cached
    /// copy when the write ends.
    fn changing_profile_of(&self, user: Uuid) -> ForgetWhenDone<'_> {
        ForgetWhenDone {
            cache: &self.profiles,
            whose: Some(user),
        }
    }

    /// Like [`Self::changing_profile_of`], for writes that may change anyone's profile.
    fn changing_profiles(&self) -> ForgetWhenDone<'_> {
        ForgetWhenDone {
            cache: &self.profiles,
            whose: None,
        }
    }

    /// Applies the migration set of this database.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            SqlBackend::Sqlite => &SQLITE_MIGRATIONS,
            SqlBackend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.writer).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// Adds `mode=rwc` so a missing file is created, and creates its folder.
fn prepare_sqlite_url(url: &str) -> anyhow::Result<String> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if !path.is_empty() && path != ":memory:" {
        if let Some(parent) = std::path::Path::new(path).parent() {
            std::fs::create_dir_all(parent)?;
        }
    }
    Ok(if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

/// Any database failure is the store being unavailable; `?` on a query does the mapping
/// (a uniqueness rule the caller expects to break goes through [`on_constraint`] instead).
impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::Unavailable {
            component: "database",
            reason: err.to_string(),
        }
    }
}

/// A query of either database.
pub(super) type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds an id as the text both databases keep ids in (the `Any` driver has no UUID type).
pub(super) trait BindId {
    fn bind_id(self, id: Uuid) -> Self;
}

impl BindId for AnyQuery<'_> {
    fn bind_id(self, id: Uuid) -> Self {
        self.bind(id.to_string())
    }
}

fn unavailable(err: sqlx::Error) -> StoreError {
    err.into()
}

/// A uniqueness violation as the `constraint` the calling query can break, anything else
/// as unavailable.
fn on_constraint(err: sqlx::Error, constraint: Constraint) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(constraint),
        _ => unavailable(err),
    }
}

fn uuid_column(row: &AnyRow, column: &str) -> Result<Uuid, sqlx::Error> {
    let text: String = row.try_get(column)?;
    Uuid::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn optional_uuid_column(row: &AnyRow, column: &str) -> Result<Option<Uuid>, sqlx::Error> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| Uuid::from_str(&t).map_err(|e| sqlx::Error::Decode(Box::new(e))))
        .transpose()
}
