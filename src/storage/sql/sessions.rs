//! The session store: sessions, their rotation (batched, see `refreshes`), revocation, and
//! the revocation log every instance catches up from.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use super::refreshes::Rotation;
use super::{optional_uuid_column, unavailable, uuid_column, BindId as _, SqlStore};
use crate::domain::credential::Holder;
use crate::domain::events::{Origin, SecurityEvent};
use crate::domain::revocation::{Revocation, RevokedSubject};
use crate::domain::session::{Audience, Session, SessionInfo, SignInHistory, TokenGrant};
use crate::domain::sign_in_method::SignInMethod;
use crate::ports::{SessionStore, StoreResult, UserStore};

/// Every column [`session_from_row`] reads, for a statement that names its columns.
pub(super) const SESSION_COLUMNS: &str = "id, user_id, created_at, expires_at, revoked_at, current_jti, \
     current_issued_at, current_expires_at, previous_jti, rotated_at, method, client_id, scope, resource, \
     confirmed_at, signed_in_at";

/// The sign-in method a row names; none: a password sign-in (rows from before the column).
pub(super) fn method_column(row: &AnyRow) -> Result<SignInMethod, sqlx::Error> {
    match row.try_get::<Option<String>, _>("method")? {
        None => Ok(SignInMethod::Password),
        Some(name) => SignInMethod::parse(&name).ok_or_else(|| sqlx::Error::ColumnDecode {
            index: "method".into(),
            source: format!("unknown sign-in method {name:?}").into(),
        }),
    }
}

pub(super) fn session_from_row(row: &AnyRow) -> Result<Session, sqlx::Error> {
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
        method: method_column(row)?,
        audience: match (
            row.try_get::<Option<String>, _>("client_id")?,
            row.try_get::<Option<String>, _>("scope")?,
        ) {
            (Some(client_id), scope) => Some(Audience {
                client_id,
                scope: scope.unwrap_or_default(),
                resource: row.try_get("resource")?,
                signed_in_at: row
                    .try_get::<Option<i64>, _>("signed_in_at")?
                    .unwrap_or(row.try_get("created_at")?),
            }),
            (None, _) => None,
        },
        confirmed_at: row.try_get("confirmed_at")?,
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

/// The row a revocation is logged as; `None` for a rotation, whose record is the session
/// row itself (read back by [`SessionStore::revocations_since`]).
fn subject_columns(subject: &RevokedSubject) -> Option<(&'static str, String)> {
    match subject {
        RevokedSubject::Session(id) => Some(("session", id.to_string())),
        RevokedSubject::Token(id) => Some(("token", id.to_string())),
        RevokedSubject::Superseded { .. } => None,
    }
}

const INSERT_REVOCATION: &str = "INSERT INTO revocations (subject_kind, subject_id, until, created_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (subject_kind, subject_id) DO NOTHING";

pub(super) async fn log_revocation<'c, E>(executor: E, revocation: &Revocation, now: i64) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let Some((kind, id)) = subject_columns(&revocation.subject) else {
        return Ok(());
    };
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
impl SessionStore for SqlStore {
    async fn confirm_session(&self, id: Uuid, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE sessions SET confirmed_at = $1 WHERE id = $2 AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind_id(id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_session(&self, session: &Session, origin: &Origin, event: &SecurityEvent) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (id, user_id, created_at, expires_at, current_jti, current_issued_at, current_expires_at, \
             user_agent, ip, method, client_id, scope, resource, signed_in_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind_id(session.id)
        .bind_id(session.user_id)
        .bind(session.created_at)
        .bind(session.expires_at)
        .bind_id(session.current.jti)
        .bind(session.current.issued_at)
        .bind(session.current.expires_at)
        .bind(origin.user_agent.as_deref())
        .bind(origin.ip.to_string())
        .bind(session.method.as_str())
        .bind(session.audience.as_ref().map(|a| a.client_id.as_str()))
        .bind(session.audience.as_ref().map(|a| a.scope.as_str()))
        .bind(session.audience.as_ref().and_then(|a| a.resource.as_deref()))
        .bind(session.audience.as_ref().map(|a| a.signed_in_at))
        .execute(&mut *tx)
        .await?;
        self.commit_with(tx, event).await
    }

    async fn live_sessions(&self, user_id: Uuid, now: i64) -> StoreResult<Vec<SessionInfo>> {
        let rows = sqlx::query(
            "SELECT id, created_at, COALESCE(rotated_at, created_at) AS last_used_at, expires_at, user_agent, ip \
             FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY id DESC",
        )
        .bind_id(user_id)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SessionInfo {
                    id: uuid_column(row, "id")?,
                    created_at: row.try_get("created_at")?,
                    last_used_at: row.try_get("last_used_at")?,
                    expires_at: row.try_get("expires_at")?,
                    user_agent: row.try_get("user_agent")?,
                    ip: row.try_get("ip")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(unavailable)
    }

    async fn sign_in_history(&self, user_id: Uuid, user_agent: Option<&str>, since: i64) -> StoreResult<SignInHistory> {
        let row = sqlx::query(
            "SELECT EXISTS (SELECT 1 FROM sessions WHERE user_id = $1) AS earlier, \
             EXISTS (SELECT 1 FROM sessions WHERE user_id = $1 AND created_at >= $2 \
                     AND COALESCE(user_agent, '') = COALESCE($3, '')) AS seen",
        )
        .bind_id(user_id)
        .bind(since)
        .bind(user_agent)
        .fetch_one(&self.pool)
        .await?;
        let flag = |column: &str| -> Result<bool, sqlx::Error> {
            // SQLite answers an integer, PostgreSQL a boolean.
            row.try_get::<bool, _>(column)
                .or_else(|_| row.try_get::<i64, _>(column).map(|n| n != 0))
        };
        Ok(SignInHistory {
            earlier_sign_ins: flag("earlier")?,
            device_seen_recently: flag("seen")?,
        })
    }

    /// Batched with concurrent reads into one statement (see [`refreshes`]).
    async fn session_with_holder(&self, id: Uuid) -> StoreResult<Option<(Session, Holder)>> {
        self.session_reads.call(id).await
    }

    /// Batched with concurrent rotations into one statement (see [`refreshes`]). The row's
    /// new `current_jti` and `rotated_at` are the rotation's whole record.
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

    /// Batched with concurrent fast-path rotations into one statement (see [`refreshes`]).
    async fn rotate_if_current(
        &self,
        id: Uuid,
        from_jti: Uuid,
        next: &TokenGrant,
        now: i64,
    ) -> StoreResult<Option<(Session, Holder)>> {
        let rotated = self.rotations_of_current.call(Rotation {
            session: id,
            from_jti,
            next: *next,
            now,
        });
        let Some(session) = rotated.await? else {
            return Ok(None);
        };
        // The holder as `GET /user/me` shows it: from the profile cache, so a refresh does
        // not read the user row each time.
        let holder = self.profile(session.user_id).await?;
        Ok(holder.map(|profile| (session, Holder::from(&profile.user))))
    }

    async fn revoke_session(
        &self,
        id: Uuid,
        revocation: Revocation,
        now: i64,
        event: Option<&SecurityEvent>,
    ) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let updated = sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind_id(id)
            .execute(&mut *tx)
            .await?;
        log_revocation(&mut *tx, &revocation, now).await?;
        let first = updated.rows_affected() == 1;
        match event.filter(|_| first) {
            Some(event) => self.commit_with(tx, event).await?,
            None => tx.commit().await?,
        }
        Ok(first)
    }

    async fn client_sessions(&self, client_id: &str, user_id: Option<Uuid>, now: i64) -> StoreResult<Vec<Uuid>> {
        let live = "SELECT id FROM sessions WHERE client_id = $1 AND revoked_at IS NULL AND expires_at > $2";
        let rows = match user_id {
            None => sqlx::query(live).bind(client_id).bind(now).fetch_all(&self.pool).await,
            Some(user) => {
                sqlx::query(&format!("{live} AND user_id = $3"))
                    .bind(client_id)
                    .bind(now)
                    .bind_id(user)
                    .fetch_all(&self.pool)
                    .await
            }
        }?;
        rows.iter()
            .map(|row| uuid_column(row, "id").map_err(unavailable))
            .collect()
    }

    async fn revoke_user_sessions(
        &self,
        user_id: Uuid,
        except: Option<Uuid>,
        until: i64,
        now: i64,
        event: Option<&SecurityEvent>,
    ) -> StoreResult<Vec<Revocation>> {
        let mut tx = self.writer.begin().await?;
        let rows = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 \
             WHERE user_id = $2 AND revoked_at IS NULL AND expires_at > $1 AND id <> COALESCE($3, '') RETURNING id",
        )
        .bind(now)
        .bind_id(user_id)
        .bind(except.map(|id| id.to_string()))
        .fetch_all(&mut *tx)
        .await?;
        let mut revocations = Vec::with_capacity(rows.len());
        for row in &rows {
            let revocation = Revocation {
                subject: RevokedSubject::Session(uuid_column(row, "id")?),
                until,
            };
            log_revocation(&mut *tx, &revocation, now).await?;
            revocations.push(revocation);
        }
        match event {
            Some(event) => self.commit_with(tx, event).await?,
            None => tx.commit().await?,
        }
        Ok(revocations)
    }

    /// The logged revocations made since `since`, then, for each session rotated since
    /// then, its current token (which supersedes every earlier one): one row per session
    /// however often it rotated.
    async fn revocations_since(&self, since: i64, now: i64) -> StoreResult<Vec<Revocation>> {
        let logged = sqlx::query("SELECT * FROM revocations WHERE created_at >= $1 AND until > $2")
            .bind(since)
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        let rotated = sqlx::query(
            "SELECT id, current_jti, current_expires_at FROM sessions \
             WHERE rotated_at >= $1 AND current_expires_at > $2 AND revoked_at IS NULL",
        )
        .bind(since)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let superseded = rotated.iter().map(|row| {
            Ok(Revocation {
                subject: RevokedSubject::Superseded {
                    session: uuid_column(row, "id")?,
                    current: uuid_column(row, "current_jti")?,
                },
                until: row.try_get("current_expires_at")?,
            })
        });
        logged
            .iter()
            .map(revocation_from_row)
            .chain(superseded)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(unavailable)
    }

    async fn prune_revocations(&self, now: i64) -> StoreResult<u64> {
        let pruned = sqlx::query("DELETE FROM revocations WHERE until <= $1")
            .bind(now)
            .execute(&self.writer)
            .await?;
        Ok(pruned.rows_affected())
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
