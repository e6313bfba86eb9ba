//! The SQL adapter of [`MfaStore`].

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use super::{on_constraint, passkeys, unavailable, uuid_column, BindId as _, SqlStore};
use crate::domain::events::SecurityEvent;
use crate::domain::mfa::{Factor, PhoneChannel, Strategy};
use crate::ports::{Constraint, MfaStore, StoreError, StoreResult};

pub(super) fn factor_from_row(row: &AnyRow) -> Result<Factor, sqlx::Error> {
    let strategy: String = row.try_get("strategy")?;
    let channel: Option<String> = row.try_get("channel")?;
    Ok(Factor {
        id: uuid_column(row, "id")?,
        user_id: uuid_column(row, "user_id")?,
        strategy: Strategy::parse(&strategy).map_err(|e| sqlx::Error::Decode(e.to_string().into()))?,
        channel: channel
            .map(|c| PhoneChannel::parse(Some(&c)))
            .transpose()
            .map_err(|e| sqlx::Error::Decode(e.to_string().into()))?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        secret_ciphertext: row.try_get("secret_ciphertext")?,
        last_used_step: row.try_get("last_used_step")?,
        code_digest: row.try_get("code_digest")?,
        code_expires_at: row.try_get("code_expires_at")?,
        // Only passkeys have one; rows of other tables have no such column.
        name: row.try_get::<Option<String>, _>("name").ok().flatten(),
        created_at: row.try_get("created_at")?,
    })
}

#[async_trait]
impl MfaStore for SqlStore {
    async fn insert_pending_factor(&self, factor: &Factor) -> StoreResult<()> {
        let _forget = self.changing_profile_of(factor.user_id);
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM mfa_factors WHERE user_id = $1 AND strategy = $2 AND enabled = 0")
            .bind_id(factor.user_id)
            .bind(factor.strategy.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO mfa_factors (id, user_id, strategy, channel, enabled, secret_ciphertext, code_digest, \
             code_expires_at, created_at) VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8)",
        )
        .bind_id(factor.id)
        .bind_id(factor.user_id)
        .bind(factor.strategy.as_str())
        .bind(factor.channel.map(PhoneChannel::as_str))
        .bind(&factor.secret_ciphertext)
        .bind(&factor.code_digest)
        .bind(factor.code_expires_at)
        .bind(factor.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| on_constraint(e, Constraint::FactorPerStrategy))?;
        tx.commit().await.map_err(unavailable)
    }

    async fn factors_of(&self, user_id: Uuid) -> StoreResult<Vec<Factor>> {
        let rows = sqlx::query(&format!(
            "SELECT id, user_id, strategy, channel, enabled, secret_ciphertext, last_used_step, code_digest, \
             code_expires_at, created_at, CAST(NULL AS TEXT) AS name FROM mfa_factors WHERE user_id = $1 \
             UNION ALL {} ORDER BY created_at, id",
            passkeys::AS_FACTORS
        ))
        .bind_id(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(factor_from_row)
            .collect::<Result<_, _>>()
            .map_err(unavailable)
    }

    async fn factor(&self, id: Uuid) -> StoreResult<Option<Factor>> {
        let row = sqlx::query("SELECT * FROM mfa_factors WHERE id = $1")
            .bind_id(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(factor_from_row).transpose().map_err(unavailable)
    }

    async fn count_validation_attempt(&self, id: Uuid) -> StoreResult<u64> {
        let attempts: Option<i64> =
            sqlx::query_scalar("UPDATE mfa_factors SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts")
                .bind(id.to_string())
                .fetch_optional(&self.writer)
                .await?;
        Ok(attempts.unwrap_or(i64::MAX) as u64)
    }

    async fn enable_factor(&self, id: Uuid, event: &SecurityEvent) -> StoreResult<bool> {
        let _forget = self.changing_profiles();
        let mut tx = self.writer.begin().await?;
        let result = sqlx::query(
            "UPDATE mfa_factors SET enabled = 1, code_digest = NULL, code_expires_at = NULL, attempts = 0 WHERE id = $1",
        )
        .bind_id(id)
        .execute(&mut *tx)
        .await?;
        self.commit_one_with(tx, result.rows_affected(), event).await
    }

    async fn delete_factor(&self, user_id: Uuid, id: Uuid, event: &SecurityEvent) -> StoreResult<bool> {
        let _forget = self.changing_profile_of(user_id);
        let mut tx = self.writer.begin().await?;
        let mut deleted = 0;
        for table in ["mfa_factors", "passkeys", "passkey_registrations"] {
            let result = sqlx::query(&format!("DELETE FROM {table} WHERE id = $1 AND user_id = $2"))
                .bind_id(id)
                .bind_id(user_id)
                .execute(&mut *tx)
                .await?;
            deleted += result.rows_affected();
        }
        self.commit_one_with(tx, deleted, event).await
    }

    async fn disable_factor(&self, user_id: Uuid, strategy: Strategy) -> StoreResult<()> {
        let _forget = self.changing_profile_of(user_id);
        sqlx::query("UPDATE mfa_factors SET enabled = 0 WHERE user_id = $1 AND strategy = $2")
            .bind_id(user_id)
            .bind(strategy.as_str())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn claim_totp_step(&self, factor_id: Uuid, step: i64) -> StoreResult<bool> {
        let _forget = self.changing_profiles();
        let result = sqlx::query(
            "UPDATE mfa_factors SET last_used_step = $1 WHERE id = $2 AND (last_used_step IS NULL OR last_used_step < $1)",
        )
        .bind(step)
        .bind_id(factor_id)
        .execute(&self.writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn replace_recovery_codes(
        &self,
        user_id: Uuid,
        codes: &[(Uuid, String)],
        now: i64,
        event: &SecurityEvent,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind_id(user_id)
            .execute(&mut *tx)
            .await?;
        for (id, digest) in codes {
            sqlx::query("INSERT INTO recovery_codes (id, user_id, code_digest, created_at) VALUES ($1, $2, $3, $4)")
                .bind_id(*id)
                .bind_id(user_id)
                .bind(digest)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        self.commit_with(tx, event).await
    }

    async fn has_recovery_codes(&self, user_id: Uuid) -> StoreResult<bool> {
        let row = sqlx::query("SELECT id FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL LIMIT 1")
            .bind_id(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    async fn use_recovery_code(&self, user_id: Uuid, digest: &str, now: i64) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_digest = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind_id(user_id)
        .bind(digest)
        .execute(&self.writer)
        .await?;
        match result.rows_affected() {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(StoreError::Unavailable {
                component: "database",
                reason: "duplicate recovery code digests".into(),
            }),
        }
    }
}
