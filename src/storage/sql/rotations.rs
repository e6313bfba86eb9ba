//! Group commit of session rotations: the rotations that arrive while one statement runs
//! share the next one.
//!
//! A refresh is one conditional UPDATE (the schema's trigger logs the old token's
//! revocation inside it). Under load most of its cost is the statement itself (a round trip,
//! parsing, a commit), not the row, so a single task takes every rotation queued behind the
//! running statement and applies them all with one `UPDATE ... FROM (VALUES ...)`. Alone, a
//! rotation waits for nothing; under load, for at most the statement ahead of it.
//!
//! Each row keeps its own condition (the token it replaces is still current and the session
//! is not revoked), so a batch decides exactly what the same rotations would one by one:
//! `RETURNING` names each session that rotated and the token now current in it, and only the
//! rotation that installed that token has won (two rotations from the same token may share a
//! batch; the database applies one of them).

use std::collections::HashSet;

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::uuid_column;
use crate::domain::session::TokenGrant;
use crate::ports::{StoreError, StoreResult};

/// Rotations applied by one statement at most (six parameters each).
pub const MAX_BATCH: usize = 64;

/// Rotations waiting for the batching task at most; past it callers wait to queue.
const QUEUE: usize = 4096;

/// One session's rotation, as `SessionStore::rotate_session` asks for it.
pub struct Rotation {
    pub session: Uuid,
    pub from_jti: Uuid,
    pub next: TokenGrant,
    pub now: i64,
}

/// The handle the store rotates through; its task stops when the last handle is dropped.
pub struct RotationBatcher {
    queue: mpsc::Sender<(Rotation, oneshot::Sender<StoreResult<bool>>)>,
}

impl RotationBatcher {
    /// Starts the batching task on `writer`.
    pub fn start(writer: AnyPool) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(apply_in_batches(writer, waiting));
        Self { queue }
    }

    /// True when the rotation happened: `from_jti` was current and the session live.
    pub async fn rotate(&self, rotation: Rotation) -> StoreResult<bool> {
        let (reply, answer) = oneshot::channel();
        self.queue.send((rotation, reply)).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable {
        component: "database",
        reason: "the rotation task has stopped".into(),
    }
}

async fn apply_in_batches(
    writer: AnyPool,
    mut waiting: mpsc::Receiver<(Rotation, oneshot::Sender<StoreResult<bool>>)>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while waiting.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let rotations: Vec<&Rotation> = batch.iter().map(|(rotation, _)| rotation).collect();
        match apply(&writer, &rotations).await {
            Ok(rotated) => {
                for (rotation, reply) in batch.drain(..) {
                    let won = rotated.contains(&(rotation.session, rotation.next.jti));
                    let _ = reply.send(Ok(won));
                }
            }
            Err(err) => {
                let reason = err.to_string();
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(StoreError::Unavailable {
                        component: "database",
                        reason: reason.clone(),
                    }));
                }
            }
        }
    }
}

/// Applies the rotations in one statement; returns each session that rotated with the token
/// that is now its current one.
async fn apply(writer: &AnyPool, rotations: &[&Rotation]) -> Result<HashSet<(Uuid, Uuid)>, sqlx::Error> {
    let statement = batch_statement(rotations.len());
    let mut query = sqlx::query(&statement);
    for rotation in rotations {
        query = query
            .bind(rotation.session.to_string())
            .bind(rotation.from_jti.to_string())
            .bind(rotation.next.jti.to_string())
            .bind(rotation.next.issued_at)
            .bind(rotation.next.expires_at)
            .bind(rotation.now);
    }
    let rows = query.fetch_all(writer).await?;
    rows.iter()
        .map(|row| Ok((uuid_column(row, "id")?, uuid_column(row, "current_jti")?)))
        .collect()
}

/// `UPDATE ... FROM (VALUES ...)` for `rows` rotations. Both databases name the columns of a
/// bare `VALUES` list `column1`, `column2`, ...
fn batch_statement(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|row| {
            let first = row * 6 + 1;
            let params: Vec<String> = (first..first + 6).map(|n| format!("${n}")).collect();
            format!("({})", params.join(", "))
        })
        .collect();
    format!(
        "UPDATE sessions SET previous_jti = current_jti, current_jti = v.column3, \
         current_issued_at = v.column4, current_expires_at = v.column5, rotated_at = v.column6 \
         FROM (VALUES {}) AS v \
         WHERE sessions.id = v.column1 AND sessions.current_jti = v.column2 AND sessions.revoked_at IS NULL \
         RETURNING id, current_jti",
        values.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::revocation::{Revocation, RevokedSubject};
    use crate::domain::session::Session;
    use crate::domain::user::User;
    use crate::ports::{SessionStore, UserStore};
    use crate::storage::sql::SqlStore;

    const NOW: i64 = 1_000_000;

    fn grant(jti: Uuid) -> TokenGrant {
        TokenGrant {
            jti,
            issued_at: NOW,
            expires_at: NOW + 3600,
        }
    }

    async fn store_with_sessions(count: usize) -> (SqlStore, Vec<Session>) {
        let store = SqlStore::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        let user = User {
            id: Uuid::new_v4(),
            name: "Ana".into(),
            email: "ana@example.com".into(),
            phone: None,
            password_hash: "hash".into(),
            is_admin: false,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        store.insert_user(&user).await.unwrap();
        let mut sessions = Vec::new();
        for _ in 0..count {
            let session = Session {
                id: Uuid::new_v4(),
                user_id: user.id,
                created_at: NOW,
                expires_at: NOW + 86_400,
                revoked_at: None,
                current: grant(Uuid::new_v4()),
                previous_jti: None,
                rotated_at: None,
            };
            store.insert_session(&session).await.unwrap();
            sessions.push(session);
        }
        (store, sessions)
    }

    #[tokio::test]
    async fn rotations_sent_together_each_get_their_own_verdict() {
        let (store, sessions) = store_with_sessions(4).await;
        let [live, stale, revoked, raced] = &sessions[..] else {
            unreachable!()
        };
        let revocation = Revocation {
            subject: RevokedSubject::Session(revoked.id),
            until: NOW + 3600,
        };
        store.revoke_session(revoked.id, revocation, NOW).await.unwrap();

        let rotate = |session: &Session, from_jti: Uuid| {
            let store = store.clone();
            let (id, next) = (session.id, grant(Uuid::new_v4()));
            async move { store.rotate_session(id, from_jti, &next, NOW + 1).await.unwrap() }
        };
        let verdicts = tokio::join!(
            rotate(live, live.current.jti),
            rotate(stale, Uuid::new_v4()),
            rotate(revoked, revoked.current.jti),
            rotate(raced, raced.current.jti),
            rotate(raced, raced.current.jti),
        );
        assert!(verdicts.0, "a current token rotates");
        assert!(!verdicts.1, "a token that is not current does not");
        assert!(!verdicts.2, "nor does a revoked session");
        assert!(
            verdicts.3 ^ verdicts.4,
            "of two rotations from one token, exactly one wins"
        );

        let mut revoked_tokens: Vec<Uuid> = store
            .revocations_since(0, NOW)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|r| match r.subject {
                RevokedSubject::Token(jti) => Some(jti),
                RevokedSubject::Session(_) => None,
            })
            .collect();
        revoked_tokens.sort();
        let mut expected = vec![live.current.jti, raced.current.jti];
        expected.sort();
        assert_eq!(
            revoked_tokens, expected,
            "each rotation revoked the token it replaced, once"
        );
    }

    #[test]
    fn each_row_takes_the_next_six_parameters() {
        let statement = batch_statement(2);
        assert!(statement.contains("VALUES ($1, $2, $3, $4, $5, $6), ($7, $8, $9, $10, $11, $12)"));
        assert!(!statement.contains("$13"));
    }
}
