//! What the tables of single-use links share (`password_resets`, `email_verifications`):
//! an account holds at most one usable link of a kind, so sending a new one voids the
//! earlier ones in the same transaction as the insert.

use sqlx::any::Any;
use sqlx::Transaction;
use uuid::Uuid;

use super::BindId as _;

/// A table of single-use links.
#[derive(Debug, Clone, Copy)]
pub(super) enum Links {
    PasswordResets,
    EmailVerifications,
}

impl Links {
    fn table(self) -> &'static str {
        match self {
            Links::PasswordResets => "password_resets",
            Links::EmailVerifications => "email_verifications",
        }
    }

    /// Marks every unused link of `user_id` used at `now`, within `tx`.
    pub(super) async fn void_unused(
        self,
        tx: &mut Transaction<'_, Any>,
        user_id: Uuid,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let statement = format!(
            "UPDATE {} SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL",
            self.table()
        );
        sqlx::query(&statement)
            .bind(now)
            .bind_id(user_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}
