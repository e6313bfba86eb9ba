//! The SQL adapter of [`ConsentStore`].

use async_trait::async_trait;
use sqlx::Row;
use uuid::Uuid;

use super::{unavailable, BindId as _, SqlStore};
use crate::ports::{Consent, ConsentStore, StoreResult};

#[async_trait]
impl ConsentStore for SqlStore {
    async fn consented_scope(&self, user_id: Uuid, client_id: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT scope FROM oauth_consents WHERE user_id = $1 AND client_id = $2")
            .bind_id(user_id)
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get("scope").map_err(unavailable)).transpose()
    }

    async fn grant_consent(&self, user_id: Uuid, client_id: &str, scope: &str, now: i64) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM oauth_consents WHERE user_id = $1 AND client_id = $2")
            .bind_id(user_id)
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO oauth_consents (user_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4)")
            .bind_id(user_id)
            .bind(client_id)
            .bind(scope)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await.map_err(unavailable)
    }

    async fn withdraw_consent(&self, user_id: Uuid, client_id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM oauth_consents WHERE user_id = $1 AND client_id = $2")
            .bind_id(user_id)
            .bind(client_id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn consents_of(&self, user_id: Uuid) -> StoreResult<Vec<Consent>> {
        let rows = sqlx::query(
            "SELECT c.client_id, o.name, c.scope, c.granted_at FROM oauth_consents c \
             JOIN oauth_clients o ON o.id = c.client_id WHERE c.user_id = $1 ORDER BY c.granted_at DESC",
        )
        .bind_id(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Consent {
                    client_id: row.try_get("client_id")?,
                    client_name: row.try_get("name")?,
                    scope: row.try_get("scope")?,
                    granted_at: row.try_get("granted_at")?,
                })
            })
            .collect()
    }
}
