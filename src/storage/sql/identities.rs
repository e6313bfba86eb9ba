//! The SQL adapter of [`IdentityStore`]: `upstream_identities`, one row per linked identity.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use super::{uuid_column, BindId as _, SqlStore};
use crate::domain::events::SecurityEvent;
use crate::domain::upstream::{Identity, ProviderId};
use crate::ports::{IdentityStore, StoreResult};

const COLUMNS: &str = "id, user_id, provider, subject, email, created_at, last_used_at";

fn identity_from_row(row: &AnyRow) -> Result<Identity, sqlx::Error> {
    let provider: String = row.try_get("provider")?;
    Ok(Identity {
        id: uuid_column(row, "id")?,
        user_id: uuid_column(row, "user_id")?,
        provider: ProviderId::parse(&provider).map_err(|err| sqlx::Error::ColumnDecode {
            index: "provider".into(),
            source: err.to_string().into(),
        })?,
        subject: row.try_get("subject")?,
        email: row.try_get("email")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

#[async_trait]
impl IdentityStore for SqlStore {
    async fn identity(&self, provider: &ProviderId, subject: &str) -> StoreResult<Option<Identity>> {
        let statement = format!("SELECT {COLUMNS} FROM upstream_identities WHERE provider = $1 AND subject = $2");
        let row = sqlx::query(&statement)
            .bind(provider.as_str())
            .bind(subject)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(identity_from_row).transpose()?)
    }

    async fn identities_of(&self, user_id: Uuid) -> StoreResult<Vec<Identity>> {
        let statement = format!("SELECT {COLUMNS} FROM upstream_identities WHERE user_id = $1 ORDER BY created_at, id");
        let rows = sqlx::query(&statement).bind_id(user_id).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(identity_from_row).collect::<Result<_, _>>()?)
    }

    async fn link_identity(&self, identity: &Identity, event: &SecurityEvent) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO upstream_identities (id, user_id, provider, subject, email, created_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (provider, subject) DO NOTHING",
        )
        .bind_id(identity.id)
        .bind_id(identity.user_id)
        .bind(identity.provider.as_str())
        .bind(&identity.subject)
        .bind(identity.email.as_deref())
        .bind(identity.created_at)
        .bind(identity.last_used_at)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(false);
        }
        self.commit_with(tx, event).await?;
        Ok(true)
    }

    async fn unlink_identity(&self, user_id: Uuid, id: Uuid, event: &SecurityEvent) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let removed = sqlx::query("DELETE FROM upstream_identities WHERE id = $1 AND user_id = $2")
            .bind_id(id)
            .bind_id(user_id)
            .execute(&mut *tx)
            .await?;
        if removed.rows_affected() == 0 {
            return Ok(false);
        }
        self.commit_with(tx, event).await?;
        Ok(true)
    }

    async fn touch_identity(&self, id: Uuid, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE upstream_identities SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind_id(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::events::EventKind;
    use crate::domain::user::{Email, User};
    use crate::domain::Stamp;
    use crate::ports::UserStore;

    const NOW: i64 = 1_800_000_000;

    fn event(user_id: Uuid) -> SecurityEvent {
        let stamp = Stamp {
            id: Uuid::new_v4(),
            at: NOW,
        };
        SecurityEvent::new(EventKind::UserUpdated, Some(user_id), stamp)
    }

    async fn store_with_user(email: &str) -> (SqlStore, Uuid) {
        let store = SqlStore::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        let user = User {
            id: Uuid::new_v4(),
            name: "Ada".into(),
            email: Email::parse(email).unwrap(),
            email_verified: true,
            disabled: false,
            phone: None,
            password_hash: String::new(),
            is_admin: false,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        store.insert_user(&user, &event(user.id)).await.unwrap();
        (store, user.id)
    }

    fn identity(user_id: Uuid, subject: &str) -> Identity {
        Identity {
            id: Uuid::new_v4(),
            user_id,
            provider: ProviderId::parse("corp").unwrap(),
            subject: subject.into(),
            email: Some("ada@corp.example".into()),
            created_at: NOW,
            last_used_at: None,
        }
    }

    #[tokio::test]
    async fn one_subject_of_a_provider_links_to_one_account() {
        let (store, ada) = store_with_user("ada@example.com").await;
        let corp = ProviderId::parse("corp").unwrap();
        let linked = identity(ada, "248289761001");
        assert!(store.link_identity(&linked, &event(ada)).await.unwrap());
        assert_eq!(
            store.identity(&corp, "248289761001").await.unwrap(),
            Some(linked.clone())
        );
        assert_eq!(store.identity(&corp, "someone-else").await.unwrap(), None);
        let other = ProviderId::parse("google").unwrap();
        assert_eq!(
            store.identity(&other, "248289761001").await.unwrap(),
            None,
            "per provider"
        );

        let again = identity(ada, "248289761001");
        assert!(
            !store.link_identity(&again, &event(ada)).await.unwrap(),
            "already linked"
        );
        assert_eq!(store.identities_of(ada).await.unwrap(), vec![linked.clone()]);

        store.touch_identity(linked.id, NOW + 60).await.unwrap();
        let used = store.identity(&corp, "248289761001").await.unwrap().unwrap();
        assert_eq!(used.last_used_at, Some(NOW + 60));
    }

    #[tokio::test]
    async fn only_the_owner_unlinks_an_identity() {
        let (store, ada) = store_with_user("ada@example.com").await;
        let linked = identity(ada, "s-1");
        store.link_identity(&linked, &event(ada)).await.unwrap();
        let stranger = Uuid::new_v4();
        assert!(!store
            .unlink_identity(stranger, linked.id, &event(stranger))
            .await
            .unwrap());
        assert!(store.unlink_identity(ada, linked.id, &event(ada)).await.unwrap());
        assert!(store.identities_of(ada).await.unwrap().is_empty());
        assert!(
            !store.unlink_identity(ada, linked.id, &event(ada)).await.unwrap(),
            "once"
        );
    }
}
