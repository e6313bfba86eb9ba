//! SQLite and PostgreSQL behind one adapter, through sqlx's `Any` driver: both schemas use
//! only text and 64-bit integers, so the same statements serve both and cannot drift apart.
//! Each database keeps its own migration set under `migrations/`.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Connection, Executor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::revocation::{Revocation, RevokedSubject};
use crate::domain::session::{Session, TokenGrant};
use crate::domain::user::User;
use crate::ports::{Profile, ProfileUpdate, SessionStore, StoreError, StoreResult, UserStore};

mod batch;
mod mfa;
mod organizations;
mod outbox;
mod password_resets;
mod profiles;
mod refreshes;

use batch::Batcher;
use profiles::{ForgetWhenDone, Lookup, ProfileCache};
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
    /// Recently read profiles; SQLite only (see [`profiles`]).
    profiles: Option<Arc<ProfileCache>>,
    /// The two statements of a refresh, batched (see [`refreshes`]).
    session_reads: Arc<Batcher<Uuid, Option<(Session, User)>>>,
    rotations: Arc<Batcher<Rotation, bool>>,
}

impl SqlStore {
    /// Connects (creating the SQLite file and its folder when missing).
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
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
        let (pool, writer) = match backend {
            // Every in-memory connection is a database of its own: one connection does all.
            SqlBackend::Sqlite if url.contains(":memory:") => {
                let pool = options(1).connect(&url).await?;
                (pool.clone(), pool)
            }
            // SQLite takes one writer at a time. Writers queue for the single write
            // connection here instead of colliding on the file lock, where SQLite's busy
            // handler would put them to sleep for milliseconds.
            SqlBackend::Sqlite => {
                let writer = options(1).connect(&url).await?;
                (options(8).connect(&url).await?, writer)
            }
            SqlBackend::Postgres => {
                let pool = options(16).connect(&url).await?;
                (pool.clone(), pool)
            }
        };
        let profiles = (backend == SqlBackend::Sqlite).then(Arc::default);
        Ok(Self {
            session_reads: Arc::new(refreshes::session_reads(pool.clone())),
            rotations: Arc::new(refreshes::rotations(writer.clone())),
            pool,
            writer,
            backend,
            profiles,
        })
    }

    /// Taken at the start of a write that may change `user`'s profile: forgets the cached
    /// copy when the write ends.
    fn changing_profile_of(&self, user: Uuid) -> ForgetWhenDone<'_> {
        ForgetWhenDone {
            cache: self.profiles.as_deref(),
            whose: Some(user),
        }
    }

    /// Like [`Self::changing_profile_of`], for writes that may change anyone's profile.
    fn changing_profiles(&self) -> ForgetWhenDone<'_> {
        ForgetWhenDone {
            cache: self.profiles.as_deref(),
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

    /// Grants or withdraws administrator rights; used by `authd admin create`.
    pub async fn set_admin(&self, id: Uuid, is_admin: bool) -> StoreResult<()> {
        let _forget = self.changing_profile_of(id);
        sqlx::query("UPDATE users SET is_admin = $1 WHERE id = $2")
            .bind(i64::from(is_admin))
            .bind(id.to_string())
            .execute(&self.writer)
            .await
            .map_err(unavailable)?;
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

fn unavailable(err: sqlx::Error) -> StoreError {
    StoreError::Unavailable {
        component: "database",
        reason: err.to_string(),
    }
}

fn conflict_or_unavailable(err: sqlx::Error, rule: &'static str) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(rule),
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

/// The user, their organizations and their factors as one result, told apart by `kind`;
/// each part keeps its own column names, so the usual row readers apply.
const PROFILE: &str = "\
    SELECT 'u' AS kind, id, name, email, phone, password_hash, is_admin, created_at, \
      CAST(NULL AS TEXT) AS parent_id, CAST(NULL AS TEXT) AS role, CAST(NULL AS TEXT) AS user_id, \
      CAST(NULL AS TEXT) AS strategy, CAST(NULL AS TEXT) AS channel, CAST(NULL AS BIGINT) AS enabled, \
      CAST(NULL AS TEXT) AS secret_ciphertext, CAST(NULL AS BIGINT) AS last_used_step, \
      CAST(NULL AS TEXT) AS code_digest, CAST(NULL AS BIGINT) AS code_expires_at \
    FROM users WHERE id = $1 \
    UNION ALL \
    SELECT 'o', o.id, o.name, NULL, NULL, NULL, NULL, o.created_at, o.parent_id, m.role, \
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL \
    FROM memberships m JOIN organizations o ON o.id = m.organization_id WHERE m.user_id = $1 \
    UNION ALL \
    SELECT 'f', id, NULL, NULL, NULL, NULL, NULL, created_at, NULL, NULL, \
      user_id, strategy, channel, enabled, secret_ciphertext, last_used_step, code_digest, code_expires_at \
    FROM mfa_factors WHERE user_id = $1 \
    ORDER BY kind, created_at, id";

fn profile_from_rows(rows: &[AnyRow]) -> Result<Option<Profile>, sqlx::Error> {
    let mut user = None;
    let (mut organizations, mut factors) = (Vec::new(), Vec::new());
    for row in rows {
        match row.try_get::<String, _>("kind")?.as_str() {
            "u" => user = Some(user_from_row(row)?),
            "o" => organizations.push((
                organizations::organization_from_row(row)?,
                organizations::role_from_row(row)?,
            )),
            _ => factors.push(mfa::factor_from_row(row)?),
        }
    }
    Ok(user.map(|user| Profile {
        user,
        organizations,
        factors,
    }))
}

/// Where a user's fields are in a row.
struct UserColumns {
    id: &'static str,
    name: &'static str,
    email: &'static str,
    phone: &'static str,
    password_hash: &'static str,
    is_admin: &'static str,
    created_at: &'static str,
}

/// A row of `users` itself.
const USER_COLUMNS: UserColumns = UserColumns {
    id: "id",
    name: "name",
    email: "email",
    phone: "phone",
    password_hash: "password_hash",
    is_admin: "is_admin",
    created_at: "created_at",
};

/// A session row joined with its user (see `session_with_holder`).
const HOLDER_COLUMNS: UserColumns = UserColumns {
    id: "user_id",
    name: "holder_name",
    email: "holder_email",
    phone: "holder_phone",
    password_hash: "holder_password_hash",
    is_admin: "holder_is_admin",
    created_at: "holder_created_at",
};

fn user_from_row(row: &AnyRow) -> Result<User, sqlx::Error> {
    user_from_columns(row, &USER_COLUMNS)
}

fn user_from_columns(row: &AnyRow, columns: &UserColumns) -> Result<User, sqlx::Error> {
    let created_at: i64 = row.try_get(columns.created_at)?;
    Ok(User {
        id: uuid_column(row, columns.id)?,
        name: row.try_get(columns.name)?,
        email: row.try_get(columns.email)?,
        phone: row.try_get(columns.phone)?,
        password_hash: row.try_get(columns.password_hash)?,
        is_admin: row.try_get::<i64, _>(columns.is_admin)? != 0,
        created_at: OffsetDateTime::from_unix_timestamp(created_at).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
    })
}

fn session_from_row(row: &AnyRow) -> Result<Session, sqlx::Error> {
    Ok(Session {
        id: uuid_column(row, "id")?,
        user_id: uuid_column(row, "user_id")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        current: TokenGrant {
            jti: uuid_column(row, "current_jti")?,
            issued_at: row.try_get("current_issued_at")?,
            expires_at: row.try_get("current_expires_at")?,
        },
        previous_jti: optional_uuid_column(row, "previous_jti")?,
        rotated_at: row.try_get("rotated_at")?,
    })
}

fn revocation_from_row(row: &AnyRow) -> Result<Revocation, sqlx::Error> {
    let kind: String = row.try_get("subject_kind")?;
    let id = uuid_column(row, "subject_id")?;
    let subject = match kind.as_str() {
        "session" => RevokedSubject::Session(id),
        _ => RevokedSubject::Token(id),
    };
    Ok(Revocation {
        subject,
        until: row.try_get("until")?,
    })
}

fn subject_columns(subject: &RevokedSubject) -> (&'static str, String) {
    match subject {
        RevokedSubject::Session(id) => ("session", id.to_string()),
        RevokedSubject::Token(id) => ("token", id.to_string()),
    }
}

const INSERT_REVOCATION: &str = "INSERT INTO revocations (subject_kind, subject_id, until, created_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (subject_kind, subject_id) DO NOTHING";

async fn log_revocation<'c, E>(executor: E, revocation: &Revocation, now: i64) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let (kind, id) = subject_columns(&revocation.subject);
    sqlx::query(INSERT_REVOCATION)
        .bind(kind)
        .bind(id)
        .bind(revocation.until)
        .bind(now)
        .execute(executor)
        .await?;
    Ok(())
}

#[async_trait]
impl UserStore for SqlStore {
    async fn insert_user(&self, user: &User) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO users (id, name, email, email_normalized, phone, password_hash, is_admin, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(user.id.to_string())
        .bind(&user.name)
        .bind(&user.email)
        .bind(user.email.to_lowercase())
        .bind(&user.phone)
        .bind(&user.password_hash)
        .bind(i64::from(user.is_admin))
        .bind(user.created_at.unix_timestamp())
        .execute(&self.writer)
        .await
        .map_err(|e| conflict_or_unavailable(e, "email"))?;
        Ok(())
    }

    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT * FROM users WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(user_from_row).transpose().map_err(unavailable)
    }

    async fn profile(&self, id: Uuid) -> StoreResult<Option<Profile>> {
        let missed_at = match self.profiles.as_deref().map(|cache| cache.lookup(id, Instant::now())) {
            Some(Lookup::Hit(profile)) => return Ok(Some(profile)),
            Some(Lookup::Miss(generation)) => Some(generation),
            None => None,
        };
        let rows = sqlx::query(PROFILE)
            .bind(id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        let profile = profile_from_rows(&rows).map_err(unavailable)?;
        if let (Some(cache), Some(missed_at), Some(profile)) = (self.profiles.as_deref(), missed_at, &profile) {
            cache.keep(profile, missed_at, Instant::now());
        }
        Ok(profile)
    }

    async fn user_by_email(&self, normalized_email: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT * FROM users WHERE email_normalized = $1")
            .bind(normalized_email)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(user_from_row).transpose().map_err(unavailable)
    }

    async fn update_profile(&self, id: Uuid, update: &ProfileUpdate) -> StoreResult<bool> {
        let _forget = self.changing_profile_of(id);
        let result = sqlx::query(
            "UPDATE users SET name = COALESCE($1, name), email = COALESCE($2, email), \
             email_normalized = COALESCE($3, email_normalized), phone = COALESCE($4, phone) WHERE id = $5",
        )
        .bind(&update.name)
        .bind(&update.email)
        .bind(update.email.as_ref().map(|e| e.to_lowercase()))
        .bind(&update.phone)
        .bind(id.to_string())
        .execute(&self.writer)
        .await
        .map_err(|e| conflict_or_unavailable(e, "email"))?;
        Ok(result.rows_affected() == 1)
    }

    async fn set_password_hash(&self, id: Uuid, password_hash: &str) -> StoreResult<()> {
        let _forget = self.changing_profile_of(id);
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id.to_string())
            .execute(&self.writer)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn list_users(&self, after: Option<Uuid>, limit: u32) -> StoreResult<Vec<User>> {
        let rows = sqlx::query("SELECT * FROM users WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after.map(|id| id.to_string()).unwrap_or_default())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter()
            .map(user_from_row)
            .collect::<Result<_, _>>()
            .map_err(unavailable)
    }
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn insert_session(&self, session: &Session) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (id, user_id, created_at, expires_at, current_jti, current_issued_at, current_expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(session.id.to_string())
        .bind(session.user_id.to_string())
        .bind(session.created_at)
        .bind(session.expires_at)
        .bind(session.current.jti.to_string())
        .bind(session.current.issued_at)
        .bind(session.current.expires_at)
        .execute(&self.writer)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    /// Batched with concurrent reads into one statement (see [`refreshes`]).
    async fn session_with_holder(&self, id: Uuid) -> StoreResult<Option<(Session, User)>> {
        self.session_reads.call(id).await
    }

    /// Batched with concurrent rotations into one statement (see [`refreshes`]); the
    /// trigger `sessions_rotation_revokes_the_old_token` (migration 0005) logs the old
    /// token's revocation inside it.
    async fn rotate_session(&self, id: Uuid, from_jti: Uuid, next: &TokenGrant, now: i64) -> StoreResult<bool> {
        self.rotations
            .call(Rotation {
                session: id,
                from_jti,
                next: *next,
                now,
            })
            .await
    }

    async fn revoke_session(&self, id: Uuid, revocation: Revocation, now: i64) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await.map_err(unavailable)?;
        let updated = sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        log_revocation(&mut *tx, &revocation, now).await.map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(updated.rows_affected() == 1)
    }

    async fn revoke_user_sessions(
        &self,
        user_id: Uuid,
        except: Option<Uuid>,
        until: i64,
        now: i64,
    ) -> StoreResult<Vec<Revocation>> {
        let mut tx = self.writer.begin().await.map_err(unavailable)?;
        let rows = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 \
             WHERE user_id = $2 AND revoked_at IS NULL AND expires_at > $1 AND id <> COALESCE($3, '') RETURNING id",
        )
        .bind(now)
        .bind(user_id.to_string())
        .bind(except.map(|id| id.to_string()))
        .fetch_all(&mut *tx)
        .await
        .map_err(unavailable)?;
        let mut revocations = Vec::with_capacity(rows.len());
        for row in &rows {
            let revocation = Revocation {
                subject: RevokedSubject::Session(uuid_column(row, "id").map_err(unavailable)?),
                until,
            };
            log_revocation(&mut *tx, &revocation, now).await.map_err(unavailable)?;
            revocations.push(revocation);
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(revocations)
    }

    async fn revocations_since(&self, since: i64, now: i64) -> StoreResult<Vec<Revocation>> {
        let rows = sqlx::query("SELECT * FROM revocations WHERE created_at >= $1 AND until > $2")
            .bind(since)
            .bind(now)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter()
            .map(revocation_from_row)
            .collect::<Result<_, _>>()
            .map_err(unavailable)
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(unavailable)?;
        Ok(())
    }
}
