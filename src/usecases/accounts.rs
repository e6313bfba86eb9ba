//! Accounts: sign-up, profile reads and updates, the admin listing, and making admins.

use std::sync::Arc;

use secrecy::SecretString;
use time::OffsetDateTime;
use uuid::Uuid;

use super::notices::Notices;
use super::password_rules::PasswordRules;
use super::reauth::Reauthentication;
use super::throttle::{Attempter, Throttle};
use super::verification::EmailVerification;
use super::{account_of, Ports};
use crate::domain::events::{EventKind, Origin, SecurityEvent};
use crate::domain::mfa::Strategy;
use crate::domain::notification::SecurityNotice;
use crate::domain::profile::{Profile, ProfileUpdate};
use crate::domain::throttle::Action;
use crate::domain::token::Claims;
use crate::domain::upstream::{ProviderId, UpstreamProfile, UpstreamRefusal};
use crate::domain::user::{may_manage_user, Email, Phone, SignupMode, User, UserName};
use crate::domain::AuthError;
use crate::ports::{Clock, MfaStore, PasswordHashing, UserStore};

/// A sign-up request, as received.
#[derive(Debug, Clone)]
pub struct SignUp {
    pub name: String,
    pub email: String,
    pub password: SecretString,
    pub phone: Option<String>,
}

/// A profile change; `user_id` names another account (admins only).
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    pub user_id: Option<Uuid>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// Most users one listing page returns.
pub const MAX_PAGE: u32 = 100;

/// One page of the user listing.
#[derive(Debug)]
pub struct UserPage {
    pub users: Vec<User>,
    pub next_cursor: Option<Uuid>,
}

/// Creates, reads and changes accounts.
pub struct Accounts {
    users: Arc<dyn UserStore>,
    factors: Arc<dyn MfaStore>,
    hasher: Arc<dyn PasswordHashing>,
    clock: Arc<dyn Clock>,
    throttle: Throttle,
    signup: SignupMode,
    rules: Arc<PasswordRules>,
    verification: Arc<EmailVerification>,
    notices: Arc<Notices>,
    reauth: Reauthentication,
}

/// The services account changes involve besides storage.
pub struct AccountHelpers {
    pub throttle: Throttle,
    pub reauth: Reauthentication,
    pub rules: Arc<PasswordRules>,
    pub verification: Arc<EmailVerification>,
    pub notices: Arc<Notices>,
}

impl Accounts {
    pub fn new(ports: &Ports, helpers: AccountHelpers, signup: SignupMode) -> Self {
        Self {
            users: ports.users.clone(),
            factors: ports.factors.clone(),
            hasher: ports.hasher.clone(),
            clock: ports.clock.clone(),
            throttle: helpers.throttle,
            signup,
            rules: helpers.rules,
            verification: helpers.verification,
            notices: helpers.notices,
            reauth: helpers.reauth,
        }
    }

    /// Creates an account; with admin-only sign-up the caller must be an admin. Sign-ups
    /// are throttled per email address and client, administrators' included.
    pub async fn sign_up(&self, caller: Option<&Claims>, request: SignUp, origin: &Origin) -> Result<Uuid, AuthError> {
        if self.signup == SignupMode::Admin {
            let caller = caller.ok_or(AuthError::InvalidToken)?;
            if !account_of(self.users.as_ref(), caller).await?.is_admin {
                return Err(AuthError::Forbidden("only administrators may create accounts"));
            }
        }
        let account = Email::parse(&request.email).ok().map(|email| email.normalized());
        let who = Attempter {
            account: account.as_deref(),
            client: origin.ip,
        };
        let by = caller.map_or("self".to_owned(), |c| c.sub.to_string());
        let event = |id| {
            SecurityEvent::new(EventKind::UserCreated, Some(id), self.clock.stamp())
                .from(origin)
                .with("by", by.clone())
        };
        let user = self
            .throttle
            .attempt(Action::SignUp, who, self.create_user(request, false, event))
            .await?;
        self.verification.offer_link(&user).await;
        Ok(user.id)
    }

    /// Creates an administrator unless the email is taken; returns whether one was created.
    pub async fn ensure_admin(&self, email: &str, name: &str, password: SecretString) -> Result<bool, AuthError> {
        let request = SignUp {
            name: name.to_owned(),
            email: email.to_owned(),
            password,
            phone: None,
        };
        let event = |id| {
            SecurityEvent::new(EventKind::UserCreated, Some(id), self.clock.stamp())
                .with("by", "operator")
                .with("admin", true)
        };
        match self.create_user(request, true, event).await {
            Ok(_) => Ok(true),
            Err(AuthError::EmailTaken) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// A new account for a person who signed in at the upstream provider `provider`: name
    /// and address from its profile, verified when it says so, no password. Refused unless
    /// sign-up is open.
    pub(crate) async fn create_from_upstream(
        &self,
        profile: &UpstreamProfile,
        provider: &ProviderId,
        origin: &Origin,
    ) -> Result<User, AuthError> {
        if self.signup != SignupMode::Open {
            return Err(AuthError::Upstream(UpstreamRefusal::NoAccount));
        }
        let address = profile
            .email
            .as_deref()
            .ok_or(AuthError::Upstream(UpstreamRefusal::NoEmail))?;
        let email = Email::parse(address).map_err(|_| AuthError::Upstream(UpstreamRefusal::NoEmail))?;
        let local_part = email.as_str().split('@').next().unwrap_or("you").to_owned();
        let name = profile.name.as_deref().and_then(|n| UserName::parse(n).ok());
        let name = name.map_or(local_part, |n| n.as_str().to_owned());
        let user = User {
            id: self.clock.new_id(),
            name,
            email,
            email_verified: profile.email_verified,
            disabled: false,
            phone: None,
            password_hash: String::new(),
            is_admin: false,
            created_at: OffsetDateTime::from_unix_timestamp(self.clock.unix_now())
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        };
        let event = SecurityEvent::new(EventKind::UserCreated, Some(user.id), self.clock.stamp())
            .from(origin)
            .with("by", "self")
            .with("provider", provider.as_str());
        self.users.insert_user(&user, &event).await?;
        Ok(user)
    }

    /// Creates the account, writing `event(id)` with it. An administrator the operator
    /// makes has an address the operator vouches for: it starts verified.
    async fn create_user(
        &self,
        request: SignUp,
        is_admin: bool,
        event: impl FnOnce(Uuid) -> SecurityEvent,
    ) -> Result<User, AuthError> {
        let name = UserName::parse(&request.name)?;
        let email = Email::parse(&request.email)?;
        let phone = request.phone.as_deref().map(Phone::parse).transpose()?;
        self.rules
            .check(&request.password, &[name.as_str(), email.as_str()])
            .await?;
        if self.users.user_by_email(&email).await?.is_some() {
            return Err(AuthError::EmailTaken);
        }
        let user = User {
            id: self.clock.new_id(),
            name: name.as_str().to_owned(),
            email,
            email_verified: is_admin,
            disabled: false,
            phone: phone.map(|p| p.as_str().to_owned()),
            password_hash: self.hasher.hash(request.password).await?,
            is_admin,
            created_at: OffsetDateTime::from_unix_timestamp(self.clock.unix_now())
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        };
        self.users.insert_user(&user, &event(user.id)).await?;
        Ok(user)
    }

    /// The caller's account with their organizations and factors.
    pub async fn profile(&self, caller: &Claims) -> Result<Profile, AuthError> {
        self.users.profile(caller.sub).await?.ok_or(AuthError::InvalidToken)
    }

    /// Changes name, email or phone of the caller, or of `user_id` when the caller is an admin.
    pub async fn update_profile(
        &self,
        caller: &Claims,
        change: ProfileChange,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        let target = change.user_id.unwrap_or(caller.sub);
        if !may_manage_user(&account_of(self.users.as_ref(), caller).await?, target) {
            return Err(AuthError::Forbidden("only administrators may change another account"));
        }
        let before = self
            .users
            .user_by_id(target)
            .await?
            .ok_or(AuthError::NotFound("user"))?;
        let update = ProfileUpdate {
            name: change.name.as_deref().map(UserName::parse).transpose()?,
            email: change.email.as_deref().map(Email::parse).transpose()?,
            phone: change.phone.as_deref().map(Phone::parse).transpose()?,
        };
        // The e-mail is where password resets go: moving it needs a recent sign-in.
        if update.changes_email_of(&before) {
            self.reauth.ensure_recent(caller).await?;
        }
        let changed: Vec<&str> = [
            update.name.as_ref().map(|_| "name"),
            update.email.as_ref().map(|_| "email"),
            update.phone.as_ref().map(|_| "phone"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let event = SecurityEvent::new(EventKind::UserUpdated, Some(target), self.clock.stamp())
            .from(origin)
            .with("fields", changed)
            .with("by", caller.sub.to_string());
        if !self.users.update_profile(target, &update, &event).await? {
            return Err(AuthError::NotFound("user"));
        }
        // A factor proves control of a destination; a new destination must be proved again.
        if update.changes_phone_of(&before) {
            self.factors.disable_factor(target, Strategy::Phone).await?;
        }
        if update.changes_email_of(&before) {
            self.factors.disable_factor(target, Strategy::Email).await?;
            if let Some(new_email) = &update.email {
                let notice = SecurityNotice::EmailChanged {
                    new_email: new_email.as_str().to_owned(),
                };
                self.notices.tell(&before.email, notice).await;
            }
            if let Some(after) = self.users.user_by_id(target).await? {
                self.verification.offer_link(&after).await;
            }
        }
        Ok(())
    }

    /// Lists accounts in creation order; administrators only.
    pub async fn list_users(
        &self,
        caller: &Claims,
        limit: Option<u32>,
        cursor: Option<Uuid>,
    ) -> Result<UserPage, AuthError> {
        if !account_of(self.users.as_ref(), caller).await?.is_admin {
            return Err(AuthError::Forbidden("only administrators may list users"));
        }
        let limit = limit.unwrap_or(50);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(AuthError::invalid("limit", format!("must be 1 to {MAX_PAGE}")));
        }
        let users = self.users.list_users(cursor, limit).await?;
        let next_cursor = if users.len() == limit as usize {
            users.last().map(|u| u.id)
        } else {
            None
        };
        Ok(UserPage { users, next_cursor })
    }
}
