//! An account as its owner sees it, and the changes an owner (or admin) may make to it.

use super::mfa::Factor;
use super::organization::{Organization, Role};
use super::user::{Email, Phone, User, UserName};

/// A user with their organizations and factors: what `GET /user/me` shows.
#[derive(Debug, Clone)]
pub struct Profile {
    pub user: User,
    pub organizations: Vec<(Organization, Role)>,
    pub factors: Vec<Factor>,
}

/// Validated fields of a profile update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    pub name: Option<UserName>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
}

impl ProfileUpdate {
    /// Whether the update moves the e-mail address elsewhere (a change of case is not a move).
    pub fn changes_email_of(&self, before: &User) -> bool {
        self.email
            .as_ref()
            .is_some_and(|email| email.normalized() != before.email.normalized())
    }

    /// Whether the update gives the account another phone number.
    pub fn changes_phone_of(&self, before: &User) -> bool {
        self.phone
            .as_ref()
            .is_some_and(|phone| before.phone.as_deref() != Some(phone.as_str()))
    }
}
