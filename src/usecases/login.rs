//! Password login: throttled per account and client, constant-time with respect to whether
//! the account exists, and ending in a new session or a second-factor challenge.

use std::sync::Arc;

use secrecy::{ExposeSecret as _, SecretString};

use super::account_of;
use super::mfa::challenge::Challenges;
use super::reauth::Reauthentication;
use super::sessions::Sessions;
use super::throttle::{check_own_password, Attempter, Throttle};
use super::verification::EmailVerification;
use super::Ports;
use crate::domain::credential::Credential;
use crate::domain::events::{EventKind, Origin, SecurityEvent};
use crate::domain::mfa::Strategy;
use crate::domain::password_policy::check_presented_password;
use crate::domain::sign_in_method::SignInMethod;
use crate::domain::throttle::Action;
use crate::domain::token::Claims;
use crate::domain::user::{Email, User};
use crate::domain::AuthError;
use crate::ports::{Clock, PasswordHashing, SecurityEvents, UserStore};
use crate::telemetry::metrics as telemetry;

/// How a correct password ends: signed in, or asked for a second factor.
#[derive(Debug, Clone)]
pub enum LoginOutcome {
    Authenticated(Box<Credential>),
    /// Choose one of `strategies` with `hash` at `POST /mfa/choose`.
    SecondFactorRequired {
        hash: String,
        strategies: Vec<Strategy>,
    },
}

/// What a signed-in person presents to confirm it is still them (`POST /login/confirm`).
pub enum Confirmation {
    /// The account's password.
    Password(SecretString),
    /// A current code of the account's authenticator app (each code confirms once).
    AppCode(SecretString),
}

/// Email and password login.
pub struct Login {
    users: Arc<dyn UserStore>,
    hasher: Arc<dyn PasswordHashing>,
    events: Arc<dyn SecurityEvents>,
    clock: Arc<dyn Clock>,
    throttle: Throttle,
    challenges: Arc<Challenges>,
    sessions: Arc<Sessions>,
    verification: Arc<EmailVerification>,
    reauth: Reauthentication,
}

/// The services a login hands over to.
pub struct LoginSteps {
    pub reauth: Reauthentication,
    pub challenges: Arc<Challenges>,
    pub sessions: Arc<Sessions>,
    pub verification: Arc<EmailVerification>,
}

impl Login {
    pub fn new(ports: &Ports, throttle: Throttle, steps: LoginSteps) -> Self {
        Self {
            users: ports.users.clone(),
            hasher: ports.hasher.clone(),
            events: ports.events.clone(),
            clock: ports.clock.clone(),
            throttle,
            challenges: steps.challenges,
            sessions: steps.sessions,
            verification: steps.verification,
            reauth: steps.reauth,
        }
    }

    /// Renews the caller's recent authentication with their password or a code of their
    /// authenticator app (`POST /login/confirm`): throttled and recorded like a sign-in
    /// failure when wrong.
    pub async fn confirm(&self, caller: &Claims, presented: Confirmation, origin: &Origin) -> Result<(), AuthError> {
        let user = account_of(self.users.as_ref(), caller).await?;
        let checked = match presented {
            Confirmation::Password(password) => {
                check_presented_password("password", password.expose_secret())?;
                check_own_password(&self.throttle, self.hasher.as_ref(), &user, password, origin.ip).await
            }
            Confirmation::AppCode(code) => {
                let normalized = user.email.normalized();
                let who = Attempter {
                    account: Some(&normalized),
                    client: origin.ip,
                };
                let check = async {
                    match self.challenges.app_code_confirms(user.id, &code).await? {
                        true => Ok(()),
                        false => Err(AuthError::InvalidCode),
                    }
                };
                self.throttle.attempt(Action::Login, who, check).await
            }
        };
        if let Err(AuthError::InvalidCredentials | AuthError::InvalidCode) = checked {
            self.failed(Some(user.id), origin, "confirmation_failed").await;
        }
        checked?;
        self.reauth.renew(caller.sid).await
    }

    /// Checks email and password; opens a session, or starts the MFA steps when the user
    /// has a validated factor.
    pub async fn login(&self, email: &str, password: SecretString, origin: &Origin) -> Result<LoginOutcome, AuthError> {
        let email = Email::parse(email)?;
        check_presented_password("password", password.expose_secret())?;
        let normalized = email.normalized();
        let who = Attempter {
            account: Some(&normalized),
            client: origin.ip,
        };
        let checked = self
            .throttle
            .attempt(Action::Login, who, self.verify_password(&email, password, origin));
        let user = match checked.await {
            Ok(user) => user,
            Err(err) => {
                if let AuthError::RateLimited { .. } = err {
                    count_login("rate_limited");
                    self.failed(None, origin, "rate_limited").await;
                } else {
                    count_login("failed");
                }
                return Err(err);
            }
        };
        // Only the right password learns that the account is disabled or unverified.
        if user.disabled {
            count_login("disabled");
            self.failed(Some(user.id), origin, "account_disabled").await;
            return Err(AuthError::AccountDisabled);
        }
        if self.verification.blocks_sign_in(&user) {
            count_login("email_not_verified");
            self.failed(Some(user.id), origin, "email_not_verified").await;
            self.verification.offer_link(&user).await;
            return Err(AuthError::EmailNotVerified);
        }
        if let Some((hash, strategies)) = self.challenges.second_factor_challenge(&user, None).await? {
            count_login("mfa_required");
            return Ok(LoginOutcome::SecondFactorRequired { hash, strategies });
        }
        let credential = self.sessions.open(&user, SignInMethod::Password, origin).await?;
        count_login("ok");
        Ok(LoginOutcome::Authenticated(Box::new(credential)))
    }

    /// The user whose email and password these are; an unknown email costs the same hash.
    async fn verify_password(&self, email: &Email, password: SecretString, origin: &Origin) -> Result<User, AuthError> {
        let user = self.users.user_by_email(email).await?;
        let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
        if !self.hasher.verify(password, stored_hash).await? {
            self.failed(user.map(|u| u.id), origin, "invalid_credentials").await;
            return Err(AuthError::InvalidCredentials);
        }
        user.ok_or(AuthError::InvalidCredentials)
    }

    async fn failed(&self, user_id: Option<uuid::Uuid>, origin: &Origin, reason: &'static str) {
        let event = SecurityEvent::new(EventKind::LoginFailed, user_id, self.clock.stamp())
            .from(origin)
            .with("reason", reason);
        self.events.record(event).await;
    }
}

fn count_login(outcome: &'static str) {
    metrics::counter!(telemetry::LOGINS, "outcome" => outcome).increment(1);
}
