//! Erasing an account: every row held about it, in one transaction, with its sessions
//! revoked on every instance through the revocation log.
//!
//! What goes: the user, sessions, factors, passkeys, recovery codes, memberships, linked
//! upstream identities, reset and
//! verification links, the audit events about the account, the messages addressed to it,
//! and the organizations it was the only member of (their children move up a level).
//! What stays: the revocation log's session ids (no user column, gone once they expire)
//! and the `user.deleted` event, which carries only the account's id.

use sqlx::{Any, Row, Transaction};
use uuid::Uuid;

use super::sessions::log_revocation;
use super::{uuid_column, SqlStore};
use crate::domain::events::SecurityEvent;
use crate::domain::revocation::{Revocation, RevokedSubject};
use crate::domain::AuthError;
use crate::ports::StoreResult;

/// Organizations the user is the last owner of while others are members.
const SOLELY_OWNED_WITH_OTHERS: &str = "\
    SELECT COUNT(*) FROM memberships m WHERE m.user_id = $1 AND m.role = 'owner' \
      AND (SELECT COUNT(*) FROM memberships o WHERE o.organization_id = m.organization_id AND o.role = 'owner') = 1 \
      AND EXISTS (SELECT 1 FROM memberships x WHERE x.organization_id = m.organization_id AND x.user_id <> $1)";

/// Tables whose rows name the user in `user_id`, children before parents.
const OWNED_ROWS: [&str; 10] = [
    "DELETE FROM memberships WHERE user_id = $1",
    "DELETE FROM upstream_identities WHERE user_id = $1",
    "DELETE FROM passkeys WHERE user_id = $1",
    "DELETE FROM passkey_registrations WHERE user_id = $1",
    "DELETE FROM recovery_codes WHERE user_id = $1",
    "DELETE FROM mfa_factors WHERE user_id = $1",
    "DELETE FROM password_resets WHERE user_id = $1",
    "DELETE FROM email_verifications WHERE user_id = $1",
    "DELETE FROM sessions WHERE user_id = $1",
    "DELETE FROM security_events WHERE user_id = $1",
];

impl SqlStore {
    /// See [`crate::ports::UserStore::delete_user`].
    pub(super) async fn erase_account(
        &self,
        id: Uuid,
        until: i64,
        now: i64,
        event: &SecurityEvent,
    ) -> StoreResult<Result<Vec<Revocation>, AuthError>> {
        let user = id.to_string();
        let mut tx = self.writer.begin().await?;
        // Locks the user's row first, so two deletions of one account run one at a time.
        let found = sqlx::query("UPDATE users SET name = name WHERE id = $1 RETURNING email_normalized, phone")
            .bind(&user)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(found) = found else {
            return Ok(Err(AuthError::NotFound("user")));
        };
        let solely_owned: i64 = sqlx::query_scalar(SOLELY_OWNED_WITH_OTHERS)
            .bind(&user)
            .fetch_one(&mut *tx)
            .await?;
        if solely_owned > 0 {
            return Ok(Err(AuthError::SoleOwner));
        }
        let revocations = revoke_live_sessions(&mut tx, &user, until, now).await?;
        remove_lonely_organizations(&mut tx, &user).await?;
        let mut addresses: Vec<String> = sqlx::query_scalar("SELECT email FROM email_verifications WHERE user_id = $1")
            .bind(&user)
            .fetch_all(&mut *tx)
            .await?;
        addresses.push(found.try_get("email_normalized")?);
        addresses.extend(found.try_get::<Option<String>, _>("phone")?);
        for address in &addresses {
            sqlx::query("DELETE FROM notifications WHERE LOWER(recipient) = $1")
                .bind(address.to_lowercase())
                .execute(&mut *tx)
                .await?;
        }
        for statement in OWNED_ROWS {
            sqlx::query(statement).bind(&user).execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(&user)
            .execute(&mut *tx)
            .await?;
        self.commit_with(tx, event).await?;
        Ok(Ok(revocations))
    }
}

async fn revoke_live_sessions(
    tx: &mut Transaction<'_, Any>,
    user: &str,
    until: i64,
    now: i64,
) -> sqlx::Result<Vec<Revocation>> {
    let live = sqlx::query("SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2")
        .bind(user)
        .bind(now)
        .fetch_all(&mut **tx)
        .await?;
    let mut revocations = Vec::with_capacity(live.len());
    for row in &live {
        let revocation = Revocation {
            subject: RevokedSubject::Session(uuid_column(row, "id")?),
            until,
        };
        log_revocation(&mut **tx, &revocation, now).await?;
        revocations.push(revocation);
    }
    Ok(revocations)
}

/// Deletes the organizations `user` is the only member of; their children take their place
/// under the deleted one's parent, which cannot close a cycle.
async fn remove_lonely_organizations(tx: &mut Transaction<'_, Any>, user: &str) -> sqlx::Result<()> {
    let lonely: Vec<String> = sqlx::query_scalar(
        "SELECT organization_id FROM memberships m WHERE m.user_id = $1 AND NOT EXISTS \
         (SELECT 1 FROM memberships o WHERE o.organization_id = m.organization_id AND o.user_id <> $1)",
    )
    .bind(user)
    .fetch_all(&mut **tx)
    .await?;
    if lonely.is_empty() {
        return Ok(());
    }
    sqlx::query("UPDATE organization_hierarchy_lock SET version = version + 1 WHERE id = 1")
        .execute(&mut **tx)
        .await?;
    for organization in &lonely {
        sqlx::query(
            "UPDATE organizations SET parent_id = (SELECT parent_id FROM organizations WHERE id = $1) WHERE parent_id = $1",
        )
        .bind(organization)
        .execute(&mut **tx)
        .await?;
        sqlx::query("DELETE FROM memberships WHERE organization_id = $1")
            .bind(organization)
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM organizations WHERE id = $1")
            .bind(organization)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
