//! The SQL adapter of [`ClientStore`]: OpenID Connect clients, their lists kept as JSON.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{on_constraint, SqlStore};
use crate::domain::oauth::{Client, Grant, IdTokenAlg};
use crate::ports::{ClientStore, Constraint, StoreError, StoreResult};

const COLUMNS: &str = "id, name, secret_digest, redirect_uris, post_logout_redirect_uris, public, first_party, \
                       scopes, grants, id_token_alg, created_at, resource";

#[async_trait]
impl ClientStore for SqlStore {
    async fn insert_client(&self, client: &Client) -> StoreResult<()> {
        let list = |items: &[String]| serde_json::to_string(items).unwrap_or_else(|_| "[]".into());
        let grants: Vec<String> = client.grants.iter().map(|g| g.as_str().to_owned()).collect();
        sqlx::query(&format!(
            "INSERT INTO oauth_clients ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(&client.id)
        .bind(&client.name)
        .bind(client.secret_digest.as_deref())
        .bind(list(&client.redirect_uris))
        .bind(list(&client.post_logout_redirect_uris))
        .bind(i64::from(client.public))
        .bind(i64::from(client.first_party))
        .bind(list(&client.scopes))
        .bind(list(&grants))
        .bind(client.id_token_alg.as_str())
        .bind(client.created_at)
        .bind(client.resource.as_deref())
        .execute(&self.writer)
        .await
        .map_err(|err| on_constraint(err, Constraint::ResourceTaken))?;
        Ok(())
    }

    async fn client(&self, client_id: &str) -> StoreResult<Option<Client>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM oauth_clients WHERE id = $1"))
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(client_of).transpose()
    }

    async fn client_by_resource(&self, resource: &str) -> StoreResult<Option<Client>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM oauth_clients WHERE resource = $1"))
            .bind(resource)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(client_of).transpose()
    }

    async fn clients(&self) -> StoreResult<Vec<Client>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM oauth_clients ORDER BY created_at, name, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(client_of).collect()
    }

    async fn delete_client(&self, client_id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM oauth_clients WHERE id = $1")
            .bind(client_id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

fn client_of(row: &AnyRow) -> StoreResult<Client> {
    let broken = |what: &str| StoreError::Unavailable {
        component: "database",
        reason: format!("oauth_clients.{what} is not a JSON list of strings"),
    };
    let list = |column: &'static str| -> StoreResult<Vec<String>> {
        let text: String = row.try_get(column)?;
        serde_json::from_str(&text).map_err(|_| broken(column))
    };
    let grants = list("grants")?
        .iter()
        .map(|g| Grant::parse(g).map_err(|_| broken("grants")))
        .collect::<StoreResult<_>>()?;
    Ok(Client {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        secret_digest: row.try_get("secret_digest")?,
        redirect_uris: list("redirect_uris")?,
        post_logout_redirect_uris: list("post_logout_redirect_uris")?,
        public: row.try_get::<i64, _>("public")? != 0,
        first_party: row.try_get::<i64, _>("first_party")? != 0,
        scopes: list("scopes")?,
        grants,
        id_token_alg: IdTokenAlg::parse(&row.try_get::<String, _>("id_token_alg")?)
            .map_err(|_| broken("id_token_alg"))?,
        created_at: row.try_get("created_at")?,
        resource: row.try_get("resource")?,
    })
}
