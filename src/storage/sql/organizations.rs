//! The SQL adapter of [`OrganizationStore`].

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use super::{on_constraint, optional_uuid_column, unavailable, uuid_column, BindId as _, SqlStore};
use crate::domain::events::SecurityEvent;
use crate::domain::organization::{check_member_removal, would_create_cycle, Membership, Organization, Role};
use crate::domain::AuthError;
use crate::ports::{Constraint, OrganizationStore, OrganizationUpdate, RemovalRequester, StoreResult};

/// The chain from an organization up to its root, the organization first.
const ANCESTRY: &str = "WITH RECURSIVE chain (id, parent_id) AS ( \
       SELECT id, parent_id FROM organizations WHERE id = $1 \
       UNION ALL \
       SELECT o.id, o.parent_id FROM organizations o JOIN chain c ON o.id = c.parent_id \
     ) SELECT id FROM chain";

pub(super) fn organization_from_row(row: &AnyRow) -> Result<Organization, sqlx::Error> {
    Ok(Organization {
        id: uuid_column(row, "id")?,
        name: row.try_get("name")?,
        parent_id: optional_uuid_column(row, "parent_id")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(super) fn role_from_row(row: &AnyRow) -> Result<Role, sqlx::Error> {
    let text: String = row.try_get("role")?;
    Role::from_stored(&text).ok_or_else(|| sqlx::Error::Decode(format!("unknown role {text:?}").into()))
}

fn membership_from_row(row: &AnyRow) -> Result<Membership, sqlx::Error> {
    Ok(Membership {
        id: uuid_column(row, "id")?,
        organization_id: uuid_column(row, "organization_id")?,
        user_id: uuid_column(row, "user_id")?,
        role: role_from_row(row)?,
        created_at: row.try_get("created_at")?,
    })
}

const INSERT_MEMBERSHIP: &str =
    "INSERT INTO memberships (id, organization_id, user_id, role, created_at) VALUES ($1, $2, $3, $4, $5)";

fn insert_membership(membership: &Membership) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
    sqlx::query(INSERT_MEMBERSHIP)
        .bind_id(membership.id)
        .bind_id(membership.organization_id)
        .bind_id(membership.user_id)
        .bind(membership.role.as_str())
        .bind(membership.created_at)
}

#[async_trait]
impl OrganizationStore for SqlStore {
    async fn insert_organization(&self, organization: &Organization, owner: &Membership) -> StoreResult<()> {
        let _forget = self.changing_profiles();
        let mut tx = self.writer.begin().await?;
        sqlx::query("INSERT INTO organizations (id, name, parent_id, created_at) VALUES ($1, $2, $3, $4)")
            .bind_id(organization.id)
            .bind(&organization.name)
            .bind(organization.parent_id.map(|id| id.to_string()))
            .bind(organization.created_at)
            .execute(&mut *tx)
            .await?;
        insert_membership(owner).execute(&mut *tx).await?;
        tx.commit().await.map_err(unavailable)
    }

    async fn organization(&self, id: Uuid) -> StoreResult<Option<Organization>> {
        let row = sqlx::query("SELECT * FROM organizations WHERE id = $1")
            .bind_id(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(organization_from_row).transpose().map_err(unavailable)
    }

    async fn members(&self, organization_id: Uuid) -> StoreResult<Vec<Membership>> {
        let rows = sqlx::query("SELECT * FROM memberships WHERE organization_id = $1 ORDER BY created_at, id")
            .bind_id(organization_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(membership_from_row)
            .collect::<Result<_, _>>()
            .map_err(unavailable)
    }

    async fn role_of(&self, organization_id: Uuid, user_id: Uuid) -> StoreResult<Option<Role>> {
        let row = sqlx::query("SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2")
            .bind_id(organization_id)
            .bind_id(user_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(role_from_row).transpose().map_err(unavailable)
    }

    async fn add_member(&self, membership: &Membership, event: &SecurityEvent) -> StoreResult<()> {
        let _forget = self.changing_profiles();
        let mut tx = self.writer.begin().await?;
        insert_membership(membership)
            .execute(&mut *tx)
            .await
            .map_err(|e| on_constraint(e, Constraint::Membership))?;
        self.commit_with(tx, event).await
    }

    async fn update_organization(
        &self,
        id: Uuid,
        name: Option<&str>,
        parent: Option<Option<Uuid>>,
    ) -> StoreResult<OrganizationUpdate> {
        let _forget = self.changing_profiles();
        let mut tx = self.writer.begin().await?;
        // Taken first, so concurrent hierarchy changes run one after the other and each
        // checks the hierarchy the previous one committed.
        sqlx::query("UPDATE organization_hierarchy_lock SET version = version + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        let exists = sqlx::query("SELECT id FROM organizations WHERE id = $1")
            .bind_id(id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Ok(OrganizationUpdate::UnknownOrganization);
        }
        if let Some(new_parent) = parent {
            if let Some(new_parent) = new_parent {
                let rows = sqlx::query(ANCESTRY).bind_id(new_parent).fetch_all(&mut *tx).await?;
                if rows.is_empty() {
                    return Ok(OrganizationUpdate::UnknownParent);
                }
                let ancestry = rows
                    .iter()
                    .map(|row| uuid_column(row, "id"))
                    .collect::<Result<Vec<_>, _>>()?;
                if would_create_cycle(id, &ancestry) {
                    return Ok(OrganizationUpdate::WouldCycle);
                }
            }
            sqlx::query("UPDATE organizations SET parent_id = $1 WHERE id = $2")
                .bind(new_parent.map(|p| p.to_string()))
                .bind_id(id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(name) = name {
            sqlx::query("UPDATE organizations SET name = $1 WHERE id = $2")
                .bind(name)
                .bind_id(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(OrganizationUpdate::Updated)
    }

    async fn remove_member(
        &self,
        organization_id: Uuid,
        user_id: Uuid,
        requester: RemovalRequester,
        event: &SecurityEvent,
    ) -> StoreResult<Result<(), AuthError>> {
        let _forget = self.changing_profiles();
        let mut tx = self.writer.begin().await?;
        // Locks the organization's row, so concurrent removals count owners one at a time.
        let locked = sqlx::query("UPDATE organizations SET name = name WHERE id = $1")
            .bind_id(organization_id)
            .execute(&mut *tx)
            .await?;
        if locked.rows_affected() == 0 {
            return Ok(Err(AuthError::NotFound("organization")));
        }
        let target = sqlx::query("SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2")
            .bind_id(organization_id)
            .bind_id(user_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(target) = target else {
            return Ok(Err(AuthError::NotFound("member")));
        };
        let target_role = role_from_row(&target)?;
        let owners: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE organization_id = $1 AND role = 'owner'")
                .bind(organization_id.to_string())
                .fetch_one(&mut *tx)
                .await?;
        if let Err(refusal) =
            check_member_removal(requester.role, requester.is_system_admin, target_role, owners as usize)
        {
            return Ok(Err(refusal));
        }
        sqlx::query("DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2")
            .bind_id(organization_id)
            .bind_id(user_id)
            .execute(&mut *tx)
            .await?;
        self.commit_with(tx, event).await?;
        Ok(Ok(()))
    }

    async fn organizations_of(&self, user_id: Uuid) -> StoreResult<Vec<(Organization, Role)>> {
        let rows = sqlx::query(
            "SELECT o.id, o.name, o.parent_id, o.created_at, m.role FROM memberships m \
             JOIN organizations o ON o.id = m.organization_id WHERE m.user_id = $1 ORDER BY o.created_at, o.id",
        )
        .bind_id(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((organization_from_row(row)?, role_from_row(row)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(unavailable)
    }
}
