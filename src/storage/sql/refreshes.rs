//! The two statements of a refresh, each batched with the same statements of concurrent
//! refreshes (see [`batch`](super::batch)): reading the session with its holder, and
//! rotating it.
//!
//! A rotation is a conditional UPDATE of the session row, which is its whole record. Each row of a batch keeps its own condition (the token it replaces is still
//! current and the session is not revoked), so a batch decides exactly what the same
//! rotations would one by one: `RETURNING` names each session that rotated and the token
//! now current in it, and only the rotation that installed that token has won (two
//! rotations from the same token may share a batch; the database applies one of them).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sqlx::{AnyPool, Row};
use uuid::Uuid;

use super::batch::{parameters, Batcher};
use super::sessions::{session_from_row, SESSION_COLUMNS};
use super::uuid_column;
use super::{users::email_column, BindId as _};
use crate::domain::credential::Holder;
use crate::domain::session::{Session, TokenGrant};

/// One session's rotation, as `SessionStore::rotate_session` asks for it.
pub struct Rotation {
    pub session: Uuid,
    pub from_jti: Uuid,
    pub next: TokenGrant,
    pub now: i64,
}

/// Answers true for each rotation that happened.
pub fn rotations(writer: AnyPool) -> Batcher<Rotation, bool> {
    Batcher::start(move |batch: Arc<Vec<Rotation>>| {
        let writer = writer.clone();
        async move { rotate_all(&writer, &batch).await }
    })
}

/// The fast path of a refresh: answers, for each rotation that happened, the session as it
/// now is; `None` where the token was not current or the session is over.
pub fn rotations_of_current(writer: AnyPool) -> Batcher<Rotation, Option<Session>> {
    Batcher::start(move |batch: Arc<Vec<Rotation>>| {
        let writer = writer.clone();
        async move { rotate_current_all(&writer, &batch).await }
    })
}

async fn rotate_current_all(writer: &AnyPool, rotations: &[Rotation]) -> Result<Vec<Option<Session>>, sqlx::Error> {
    let statement = rotation_statement(rotations.len());
    let query = bind_rotations(sqlx::query(&statement), rotations);
    let mut rotated: HashMap<(Uuid, Uuid), Session> = HashMap::new();
    for row in query.fetch_all(writer).await? {
        let session = session_from_row(&row)?;
        rotated.insert((session.id, session.current.jti), session);
    }
    Ok(rotations
        .iter()
        .map(|rotation| rotated.remove(&(rotation.session, rotation.next.jti)))
        .collect())
}

/// The one rotation statement, `UPDATE ... FROM (VALUES ...)` for `rows` rotations (both
/// databases name the columns of a bare `VALUES` list `column1`, `column2`, ...). A row
/// rotates only from its current token, in a live session; the new token's expiry is
/// capped at the session's end (the rule of `domain::session`'s grants, which the fast
/// path does not read the row to apply: a token never outlives its session); the rotated
/// rows come back whole.
fn rotation_statement(rows: usize) -> String {
    format!(
        "UPDATE sessions SET previous_jti = current_jti, current_jti = v.column3, \
         current_issued_at = v.column4, \
         current_expires_at = CASE WHEN v.column5 < sessions.expires_at THEN v.column5 ELSE sessions.expires_at END, \
         rotated_at = v.column6 \
         FROM (VALUES {}) AS v \
         WHERE sessions.id = v.column1 AND sessions.current_jti = v.column2 \
         AND sessions.revoked_at IS NULL AND sessions.expires_at > v.column6 \
         RETURNING {SESSION_COLUMNS}",
        values_of(rows)
    )
}

/// The `VALUES` rows of `rows` rotations: six parameters each, bound by [`bind_rotations`].
fn values_of(rows: usize) -> String {
    (0..rows)
        .map(|row| format!("({})", parameters(row * 6 + 1, 6)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn bind_rotations<'q>(mut query: super::AnyQuery<'q>, rotations: &[Rotation]) -> super::AnyQuery<'q> {
    for rotation in rotations {
        query = query
            .bind_id(rotation.session)
            .bind_id(rotation.from_jti)
            .bind_id(rotation.next.jti)
            .bind(rotation.next.issued_at)
            .bind(rotation.next.expires_at)
            .bind(rotation.now);
    }
    query
}

fn session_and_holder(row: &sqlx::any::AnyRow) -> Result<(Session, Holder), sqlx::Error> {
    let session = session_from_row(row)?;
    let holder = Holder {
        id: session.user_id,
        name: row.try_get("holder_name")?,
        email: email_column(row, "holder_email")?,
    };
    Ok((session, holder))
}

/// Answers each session with its holder, when both exist.
pub fn session_reads(pool: AnyPool) -> Batcher<Uuid, Option<(Session, Holder)>> {
    Batcher::start(move |ids: Arc<Vec<Uuid>>| {
        let pool = pool.clone();
        async move { read_all(&pool, &ids).await }
    })
}

async fn rotate_all(writer: &AnyPool, rotations: &[Rotation]) -> Result<Vec<bool>, sqlx::Error> {
    let statement = rotation_statement(rotations.len());
    let query = bind_rotations(sqlx::query(&statement), rotations);
    let rotated: HashSet<(Uuid, Uuid)> = query
        .fetch_all(writer)
        .await?
        .iter()
        .map(|row| Ok((uuid_column(row, "id")?, uuid_column(row, "current_jti")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(rotations
        .iter()
        .map(|rotation| rotated.contains(&(rotation.session, rotation.next.jti)))
        .collect())
}

async fn read_all(pool: &AnyPool, ids: &[Uuid]) -> Result<Vec<Option<(Session, Holder)>>, sqlx::Error> {
    let statement = format!(
        "SELECT s.*, u.name AS holder_name, u.email AS holder_email \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id IN ({})",
        parameters(1, ids.len())
    );
    let mut query = sqlx::query(&statement);
    for id in ids {
        query = query.bind_id(*id);
    }
    let mut found: HashMap<Uuid, (Session, Holder)> = HashMap::new();
    for row in query.fetch_all(pool).await? {
        let (session, holder) = session_and_holder(&row)?;
        found.insert(session.id, (session, holder));
    }
    Ok(ids.iter().map(|id| found.get(id).cloned()).collect())
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
            email: crate::domain::user::Email::parse("ana@example.com").unwrap(),
            email_verified: false,
            disabled: false,
            phone: None,
            password_hash: "hash".into(),
            is_admin: false,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        let event = |kind| {
            let stamp = crate::domain::Stamp {
                id: Uuid::new_v4(),
                at: NOW,
            };
            crate::domain::events::SecurityEvent::new(kind, Some(user.id), stamp)
        };
        store
            .insert_user(&user, &event(crate::domain::events::EventKind::UserCreated))
            .await
            .unwrap();
        let origin = crate::domain::events::Origin {
            ip: "127.0.0.1".parse().unwrap(),
            user_agent: None,
        };
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
                method: crate::domain::sign_in_method::SignInMethod::Password,
                audience: None,
                confirmed_at: None,
            };
            store
                .insert_session(
                    &session,
                    &origin,
                    &event(crate::domain::events::EventKind::LoginSucceeded),
                )
                .await
                .unwrap();
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
        store.revoke_session(revoked.id, revocation, NOW, None).await.unwrap();

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

        let found = store.revocations_since(0, NOW).await.unwrap();
        assert!(
            !found.iter().any(|r| matches!(r.subject, RevokedSubject::Token(_))),
            "no row is kept per rotated-away token"
        );
        let mut rotated: Vec<Uuid> = found
            .iter()
            .filter_map(|r| match r.subject {
                RevokedSubject::Superseded { session, .. } => Some(session),
                _ => None,
            })
            .collect();
        rotated.sort();
        let mut expected = vec![live.id, raced.id];
        expected.sort();
        assert_eq!(
            rotated, expected,
            "each rotated session is read back once, from its row"
        );
    }

    #[tokio::test]
    async fn the_fast_path_rotates_only_a_current_token_of_a_live_session_and_caps_its_expiry() {
        let (store, sessions) = store_with_sessions(3).await;
        let [live, stale, raced] = &sessions[..] else {
            unreachable!()
        };
        let rotate = |session: &Session, from_jti: Uuid, expires_at: i64| {
            let store = store.clone();
            let id = session.id;
            let next = TokenGrant {
                jti: crate::ports::Clock::new_id(&crate::ports::SystemClock),
                issued_at: NOW + 1,
                expires_at,
            };
            async move {
                (
                    next.jti,
                    store.rotate_if_current(id, from_jti, &next, NOW + 1).await.unwrap(),
                )
            }
        };
        let (live_next, live_rotated) = rotate(live, live.current.jti, NOW + 100_000).await;
        let (session, holder) = live_rotated.expect("a current token rotates");
        assert_eq!(session.current.jti, live_next);
        assert_eq!(session.previous_jti, Some(live.current.jti));
        assert_eq!(
            session.current.expires_at, live.expires_at,
            "never past the session's end"
        );
        assert_eq!(holder.name, "Ana");

        let (_, not_current) = rotate(stale, Uuid::new_v4(), NOW + 60).await;
        assert!(not_current.is_none());
        let ((first, a), (second, b)) = tokio::join!(
            rotate(raced, raced.current.jti, NOW + 60),
            rotate(raced, raced.current.jti, NOW + 60)
        );
        assert!(
            a.is_some() ^ b.is_some(),
            "of two rotations from one token, exactly one wins"
        );
        let winner = a.or(b).unwrap().0.current.jti;
        assert!(winner == first || winner == second);

        let after_the_end = NOW + 86_400;
        let next = TokenGrant {
            jti: crate::ports::Clock::new_id(&crate::ports::SystemClock),
            issued_at: after_the_end,
            expires_at: after_the_end + 60,
        };
        let expired = store
            .rotate_if_current(live.id, live_next, &next, after_the_end)
            .await
            .unwrap();
        assert!(expired.is_none(), "a session past its end does not rotate");
    }

    #[test]
    fn each_row_takes_the_next_six_parameters() {
        let statement = rotation_statement(2);
        assert!(statement.contains("VALUES ($1, $2, $3, $4, $5, $6), ($7, $8, $9, $10, $11, $12)"));
        assert!(!statement.contains("$13"));
    }
}
