//! The SQL adapter of [`PasswordResetStore`].

use async_trait::async_trait;
use uuid::Uuid;

use super::links::Links;
use super::{unavailable, BindId as _, SqlStore};
use crate::domain::events::SecurityEvent;
use crate::domain::Stamp;
use crate::ports::{PasswordResetStore, StoreResult};

#[async_trait]
impl PasswordResetStore for SqlStore {
    async fn insert_reset(&self, user_id: Uuid, hash_digest: &str, expires_at: i64, stamp: Stamp) -> StoreResult<()> {
        let now = stamp.at;
        let mut tx = self.writer.begin().await?;
        Links::PasswordResets.void_unused(&mut tx, user_id, now).await?;
        sqlx::query(
            "INSERT INTO password_resets (id, user_id, hash_digest, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind_id(stamp.id)
        .bind_id(user_id)
        .bind(hash_digest)
        .bind(expires_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await.map_err(unavailable)
    }

    async fn pending_reset_user(&self, hash_digest: &str, now: i64) -> StoreResult<Option<Uuid>> {
        let user: Option<String> = sqlx::query_scalar(
            "SELECT user_id FROM password_resets WHERE hash_digest = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(hash_digest)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(user.and_then(|u| Uuid::parse_str(&u).ok()))
    }

    async fn complete_reset(
        &self,
        hash_digest: &str,
        password_hash: &str,
        now: i64,
        event: &SecurityEvent,
    ) -> StoreResult<Option<Uuid>> {
        let _forget = self.changing_profiles();
        let mut tx = self.writer.begin().await?;
        let user: Option<String> = sqlx::query_scalar(
            "UPDATE password_resets SET used_at = $1 \
             WHERE hash_digest = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_id",
        )
        .bind(now)
        .bind(hash_digest)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(user) = user.and_then(|u| Uuid::parse_str(&u).ok()) else {
            return Ok(None);
        };
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind_id(user)
            .execute(&mut *tx)
            .await?;
        let event = SecurityEvent {
            user_id: Some(user),
            ..event.clone()
        };
        self.commit_with(tx, &event).await?;
        Ok(Some(user))
    }
}
