//! The SQL adapter of [`PasskeyStore`], and the passkeys as factors for [`super::mfa`].

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use super::{on_constraint, unavailable, uuid_column, BindId as _, SqlStore};
use crate::domain::events::SecurityEvent;
use crate::domain::mfa::{PasskeyRegistration, StoredPasskey};
use crate::ports::{Constraint, PasskeyStore, StoreResult};

/// The passkeys of `$1` in the columns of `mfa_factors`, so one query lists every factor;
/// a registration still waiting for its answer is one that is not enabled, its expiry in
/// `code_expires_at`.
pub(super) const AS_FACTORS: &str = "\
    SELECT id, user_id, 'PASSKEY' AS strategy, CAST(NULL AS TEXT) AS channel, enabled, \
      CAST(NULL AS TEXT) AS secret_ciphertext, CAST(NULL AS BIGINT) AS last_used_step, \
      CAST(NULL AS TEXT) AS code_digest, CAST(NULL AS BIGINT) AS code_expires_at, created_at, name \
    FROM passkeys WHERE user_id = $1 \
    UNION ALL \
    SELECT id, user_id, 'PASSKEY', CAST(NULL AS TEXT), CAST(0 AS BIGINT), CAST(NULL AS TEXT), \
      CAST(NULL AS BIGINT), CAST(NULL AS TEXT), expires_at, created_at, name \
    FROM passkey_registrations WHERE user_id = $1";

fn passkey_from_row(row: &AnyRow) -> Result<StoredPasskey, sqlx::Error> {
    Ok(StoredPasskey {
        id: uuid_column(row, "id")?,
        user_id: uuid_column(row, "user_id")?,
        name: row.try_get("name")?,
        credential_id: row.try_get("credential_id")?,
        passkey: row.try_get("passkey")?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        created_at: row.try_get("created_at")?,
    })
}

#[async_trait]
impl PasskeyStore for SqlStore {
    async fn insert_registration(&self, registration: &PasskeyRegistration) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM passkey_registrations WHERE user_id = $1 AND expires_at <= $2")
            .bind_id(registration.user_id)
            .bind(registration.created_at)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO passkey_registrations (id, user_id, name, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind_id(registration.id)
        .bind_id(registration.user_id)
        .bind(&registration.name)
        .bind(registration.created_at)
        .bind(registration.expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await.map_err(unavailable)
    }

    async fn end_registration(&self, id: Uuid) -> StoreResult<()> {
        sqlx::query("DELETE FROM passkey_registrations WHERE id = $1")
            .bind_id(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn insert_passkey(&self, passkey: &StoredPasskey, event: &SecurityEvent) -> StoreResult<bool> {
        let _forget = self.changing_profile_of(passkey.user_id);
        let mut tx = self.writer.begin().await?;
        let pending = sqlx::query("DELETE FROM passkey_registrations WHERE id = $1 AND user_id = $2")
            .bind_id(passkey.id)
            .bind_id(passkey.user_id)
            .execute(&mut *tx)
            .await?;
        if pending.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO passkeys (id, user_id, name, credential_id, passkey, enabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6)",
        )
        .bind_id(passkey.id)
        .bind_id(passkey.user_id)
        .bind(&passkey.name)
        .bind(&passkey.credential_id)
        .bind(&passkey.passkey)
        .bind(passkey.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| on_constraint(e, Constraint::PasskeyCredential))?;
        self.commit_with(tx, event).await?;
        Ok(true)
    }

    async fn passkeys_of(&self, user_id: Uuid) -> StoreResult<Vec<StoredPasskey>> {
        let rows = sqlx::query("SELECT * FROM passkeys WHERE user_id = $1 ORDER BY created_at, id")
            .bind_id(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(passkey_from_row)
            .collect::<Result<_, _>>()
            .map_err(unavailable)
    }

    async fn passkey_used(&self, id: Uuid, passkey: &str, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE passkeys SET passkey = $1, last_used_at = $2 WHERE id = $3")
            .bind(passkey)
            .bind(now)
            .bind_id(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn disable_passkey(&self, id: Uuid, event: &SecurityEvent) -> StoreResult<()> {
        let _forget = self.changing_profiles();
        let mut tx = self.writer.begin().await?;
        sqlx::query("UPDATE passkeys SET enabled = 0 WHERE id = $1")
            .bind_id(id)
            .execute(&mut *tx)
            .await?;
        self.commit_with(tx, event).await
    }
}
