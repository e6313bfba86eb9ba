//! The SQL adapter of [`CodeStore`]: authorization codes, used once by a single UPDATE.

use async_trait::async_trait;
use sqlx::Row;
use uuid::Uuid;

use super::{optional_uuid_column, unavailable, uuid_column, BindId as _, SqlStore};
use crate::domain::oidc::{AuthorizationCode, Redemption};
use crate::ports::{CodeStore, StoreResult};

#[async_trait]
impl CodeStore for SqlStore {
    async fn insert_code(&self, code: &AuthorizationCode) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        // Codes are short-lived: each insert clears the long-expired ones.
        sqlx::query("DELETE FROM oauth_codes WHERE expires_at < $1")
            .bind(code.expires_at - 86_400)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO oauth_codes (code_digest, client_id, user_id, redirect_uri, scope, nonce, code_challenge, \
             auth_time, method, expires_at, resource) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&code.digest)
        .bind(&code.client_id)
        .bind_id(code.user_id)
        .bind(&code.redirect_uri)
        .bind(&code.scope)
        .bind(code.nonce.as_deref())
        .bind(code.code_challenge.as_deref())
        .bind(code.auth_time)
        .bind(code.method.as_str())
        .bind(code.expires_at)
        .bind(code.resource.as_deref())
        .execute(&mut *tx)
        .await?;
        tx.commit().await.map_err(unavailable)
    }

    async fn redeem_code(&self, digest: &str, now: i64) -> StoreResult<Redemption> {
        let fresh = sqlx::query(
            "UPDATE oauth_codes SET used_at = $1 WHERE code_digest = $2 AND used_at IS NULL AND expires_at > $1 \
             RETURNING client_id, user_id, redirect_uri, scope, nonce, code_challenge, auth_time, method, expires_at, resource",
        )
        .bind(now)
        .bind(digest)
        .fetch_optional(&self.writer)
        .await?;
        if let Some(row) = fresh {
            let code = AuthorizationCode {
                digest: digest.to_owned(),
                client_id: row.try_get("client_id")?,
                user_id: uuid_column(&row, "user_id")?,
                redirect_uri: row.try_get("redirect_uri")?,
                scope: row.try_get("scope")?,
                nonce: row.try_get("nonce")?,
                code_challenge: row.try_get("code_challenge")?,
                auth_time: row.try_get("auth_time")?,
                method: super::sessions::method_column(&row)?,
                expires_at: row.try_get("expires_at")?,
                resource: row.try_get("resource")?,
            };
            return Ok(Redemption::Fresh(Box::new(code)));
        }
        let used = sqlx::query("SELECT issued_session FROM oauth_codes WHERE code_digest = $1 AND used_at IS NOT NULL")
            .bind(digest)
            .fetch_optional(&self.pool)
            .await?;
        match used {
            Some(row) => Ok(Redemption::Reused {
                issued_session: optional_uuid_column(&row, "issued_session")?,
            }),
            None => Ok(Redemption::Unknown),
        }
    }

    async fn record_issued_session(&self, digest: &str, session_id: Uuid) -> StoreResult<()> {
        sqlx::query("UPDATE oauth_codes SET issued_session = $1 WHERE code_digest = $2")
            .bind_id(session_id)
            .bind(digest)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
