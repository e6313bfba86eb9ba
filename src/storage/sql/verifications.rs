//! The SQL adapter of [`VerificationStore`]: e-mail verification links by keyed digest.

use async_trait::async_trait;
use sqlx::Row;
use uuid::Uuid;

use super::links::Links;
use super::{unavailable, uuid_column, BindId as _, SqlStore};
use crate::domain::events::SecurityEvent;
use crate::domain::user::Email;
use crate::domain::Stamp;
use crate::ports::{StoreResult, VerificationStore};

#[async_trait]
impl VerificationStore for SqlStore {
    async fn insert_verification(
        &self,
        user_id: Uuid,
        email: &Email,
        hash_digest: &str,
        expires_at: i64,
        stamp: Stamp,
    ) -> StoreResult<()> {
        let now = stamp.at;
        let mut tx = self.writer.begin().await?;
        Links::EmailVerifications.void_unused(&mut tx, user_id, now).await?;
        sqlx::query(
            "INSERT INTO email_verifications (id, user_id, email, hash_digest, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind_id(stamp.id)
        .bind_id(user_id)
        .bind(email.normalized())
        .bind(hash_digest)
        .bind(expires_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await.map_err(unavailable)
    }

    async fn complete_verification(
        &self,
        hash_digest: &str,
        now: i64,
        event: &SecurityEvent,
    ) -> StoreResult<Option<Uuid>> {
        let _forget = self.changing_profiles();
        let mut tx = self.writer.begin().await?;
        let link = sqlx::query(
            "UPDATE email_verifications SET used_at = $1 \
             WHERE hash_digest = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_id, email",
        )
        .bind(now)
        .bind(hash_digest)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(link) = link else {
            return Ok(None);
        };
        let user = uuid_column(&link, "user_id")?;
        let email: String = link.try_get("email")?;
        // A link proves only the address it was sent to.
        let verified = sqlx::query(
            "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1) WHERE id = $2 AND email_normalized = $3",
        )
        .bind(now)
        .bind_id(user)
        .bind(&email)
        .execute(&mut *tx)
        .await?;
        if verified.rows_affected() != 1 {
            return Ok(None);
        }
        let event = SecurityEvent {
            user_id: Some(user),
            ..event.clone()
        };
        self.commit_with(tx, &event).await?;
        Ok(Some(user))
    }
}
