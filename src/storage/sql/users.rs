//! The user store: accounts, and the profile `GET /user/me` reads in one statement.

use std::time::Instant;

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

use super::profiles::Lookup;
use super::{mfa, on_constraint, organizations, unavailable, uuid_column, BindId as _, SqlStore};
use crate::domain::events::SecurityEvent;
use crate::domain::profile::{Profile, ProfileUpdate};
use crate::domain::revocation::Revocation;
use crate::domain::user::{Email, Phone, User, UserName};
use crate::domain::AuthError;
use crate::ports::{Constraint, StoreResult, UserStore};

/// The user, their organizations and their factors as one result, told apart by `kind`;
/// each part keeps its own column names, so the usual row readers apply.
const PROFILE: &str = "\
    SELECT 'u' AS kind, id, name, email, email_verified_at, disabled_at, phone, password_hash, is_admin, created_at, \
      CAST(NULL AS TEXT) AS parent_id, CAST(NULL AS TEXT) AS role, CAST(NULL AS TEXT) AS user_id, \
      CAST(NULL AS TEXT) AS strategy, CAST(NULL AS TEXT) AS channel, CAST(NULL AS BIGINT) AS enabled, \
      CAST(NULL AS TEXT) AS secret_ciphertext, CAST(NULL AS BIGINT) AS last_used_step, \
      CAST(NULL AS TEXT) AS code_digest, CAST(NULL AS BIGINT) AS code_expires_at \
    FROM users WHERE id = $1 \
    UNION ALL \
    SELECT 'o', o.id, o.name, NULL, NULL, NULL, NULL, NULL, NULL, o.created_at, o.parent_id, m.role, \
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL \
    FROM memberships m JOIN organizations o ON o.id = m.organization_id WHERE m.user_id = $1 \
    UNION ALL \
    SELECT 'f', id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, created_at, NULL, NULL, \
      user_id, strategy, channel, enabled, secret_ciphertext, last_used_step, code_digest, code_expires_at \
    FROM mfa_factors WHERE user_id = $1 \
    UNION ALL \
    SELECT 'p', id, name, NULL, NULL, NULL, NULL, NULL, NULL, created_at, NULL, NULL, \
      user_id, 'PASSKEY', NULL, enabled, NULL, NULL, NULL, NULL \
    FROM passkeys WHERE user_id = $1 \
    ORDER BY kind, created_at, id";

fn profile_from_rows(rows: &[AnyRow]) -> Result<Option<Profile>, sqlx::Error> {
    let mut user = None;
    let (mut organizations, mut factors) = (Vec::new(), Vec::new());
    for row in rows {
        match row.try_get::<String, _>("kind")?.as_str() {
            "u" => user = Some(user_from_row(row)?),
            "o" => organizations.push((
                organizations::organization_from_row(row)?,
                organizations::role_from_row(row)?,
            )),
            _ => factors.push(mfa::factor_from_row(row)?),
        }
    }
    Ok(user.map(|user| Profile {
        user,
        organizations,
        factors,
    }))
}

/// A row of `users`.
pub(super) fn user_from_row(row: &AnyRow) -> Result<User, sqlx::Error> {
    let created_at: i64 = row.try_get("created_at")?;
    Ok(User {
        id: uuid_column(row, "id")?,
        name: row.try_get("name")?,
        email: email_column(row, "email")?,
        email_verified: row.try_get::<Option<i64>, _>("email_verified_at")?.is_some(),
        disabled: row.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
        phone: row.try_get("phone")?,
        password_hash: row.try_get("password_hash")?,
        is_admin: row.try_get::<i64, _>("is_admin")? != 0,
        created_at: OffsetDateTime::from_unix_timestamp(created_at).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
    })
}

/// An address the server stored after parsing it; parsed again on the way out.
pub(super) fn email_column(row: &AnyRow, column: &str) -> Result<Email, sqlx::Error> {
    let text: String = row.try_get(column)?;
    Email::parse(&text).map_err(|e| sqlx::Error::Decode(e.to_string().into()))
}

#[async_trait]
impl UserStore for SqlStore {
    async fn insert_user(&self, user: &User, event: &SecurityEvent) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO users (id, name, email, email_normalized, phone, password_hash, is_admin, created_at, \
             email_verified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind_id(user.id)
        .bind(&user.name)
        .bind(user.email.as_str())
        .bind(user.email.normalized())
        .bind(&user.phone)
        .bind(&user.password_hash)
        .bind(i64::from(user.is_admin))
        .bind(user.created_at.unix_timestamp())
        .bind(user.email_verified.then_some(user.created_at.unix_timestamp()))
        .execute(&mut *tx)
        .await
        .map_err(|e| on_constraint(e, Constraint::UserEmail))?;
        self.commit_with(tx, event).await
    }

    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT * FROM users WHERE id = $1")
            .bind_id(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose().map_err(unavailable)
    }

    async fn profile(&self, id: Uuid) -> StoreResult<Option<Profile>> {
        let read_from = Instant::now();
        let missed_at = match self.profiles.lookup(id, read_from) {
            Lookup::Hit(profile) => return Ok(Some(profile)),
            Lookup::Miss(generation) => generation,
        };
        let rows = sqlx::query(PROFILE).bind_id(id).fetch_all(&self.pool).await?;
        let profile = profile_from_rows(&rows)?;
        if let Some(profile) = &profile {
            self.profiles.keep(profile, missed_at, read_from);
        }
        Ok(profile)
    }

    async fn user_by_email(&self, email: &Email) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT * FROM users WHERE email_normalized = $1")
            .bind(email.normalized())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose().map_err(unavailable)
    }

    async fn update_profile(&self, id: Uuid, update: &ProfileUpdate, event: &SecurityEvent) -> StoreResult<bool> {
        let _forget = self.changing_profile_of(id);
        let mut tx = self.writer.begin().await?;
        // A different address is unverified until a link sent to it is followed.
        let result = sqlx::query(
            "UPDATE users SET name = COALESCE($1, name), email = COALESCE($2, email), \
             email_verified_at = CASE WHEN $3 IS NOT NULL AND $3 <> email_normalized THEN NULL ELSE email_verified_at END, \
             email_normalized = COALESCE($3, email_normalized), phone = COALESCE($4, phone) WHERE id = $5",
        )
        .bind(update.name.as_ref().map(UserName::as_str))
        .bind(update.email.as_ref().map(Email::as_str))
        .bind(update.email.as_ref().map(Email::normalized))
        .bind(update.phone.as_ref().map(Phone::as_str))
        .bind_id(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| on_constraint(e, Constraint::UserEmail))?;
        self.commit_one_with(tx, result.rows_affected(), event).await
    }

    async fn set_password_hash(&self, id: Uuid, password_hash: &str, event: &SecurityEvent) -> StoreResult<()> {
        let _forget = self.changing_profile_of(id);
        let mut tx = self.writer.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind_id(id)
            .execute(&mut *tx)
            .await?;
        self.commit_with(tx, event).await
    }

    async fn set_disabled(&self, id: Uuid, disabled: bool, now: i64, event: &SecurityEvent) -> StoreResult<bool> {
        let _forget = self.changing_profile_of(id);
        let mut tx = self.writer.begin().await?;
        let result = sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
            .bind(disabled.then_some(now))
            .bind_id(id)
            .execute(&mut *tx)
            .await?;
        self.commit_one_with(tx, result.rows_affected(), event).await
    }

    async fn delete_user(
        &self,
        id: Uuid,
        until: i64,
        now: i64,
        event: &SecurityEvent,
    ) -> StoreResult<Result<Vec<Revocation>, AuthError>> {
        let _forget = self.changing_profiles();
        self.erase_account(id, until, now, event).await
    }

    async fn list_users(&self, after: Option<Uuid>, limit: u32) -> StoreResult<Vec<User>> {
        let rows = sqlx::query("SELECT * FROM users WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after.map(|id| id.to_string()).unwrap_or_default())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(user_from_row)
            .collect::<Result<_, _>>()
            .map_err(unavailable)
    }
}
