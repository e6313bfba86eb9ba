//! Password login: throttled per account and client, constant-time with respect to whether
//! the account exists, and ending in a new session.

use std::net::IpAddr;

use super::sessions::IssuedToken;
use super::throttle::Attempter;
use super::Core;
use crate::actors::sessions::SessionMsg;
use crate::domain::mfa::Strategy;
use crate::domain::password_policy::MAX_PASSWORD_LEN;
use crate::domain::throttle::Action;
use crate::domain::user::{Email, User};
use crate::domain::AuthError;
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

/// What a successful login or refresh hands the client.
#[derive(Debug, Clone)]
pub struct Credential {
    pub user: User,
    pub token: IssuedToken,
    /// Seconds until the token expires.
    pub expires_in: i64,
}

impl Core {
    /// Checks email and password; opens a session, or starts the MFA steps when the user
    /// has a validated factor.
    pub async fn login(&self, email: &str, password: String, client: IpAddr) -> Result<LoginOutcome, AuthError> {
        let email = Email::parse(email)?;
        if password.is_empty() || password.chars().count() > MAX_PASSWORD_LEN {
            return Err(AuthError::invalid(
                "password",
                format!("must be 1 to {MAX_PASSWORD_LEN} characters"),
            ));
        }
        let normalized = email.normalized();
        let who = Attempter {
            account: Some(&normalized),
            client,
        };
        let checked = self
            .throttle
            .attempt(Action::Login, who, self.verify_password(&normalized, password));
        let user = match checked.await {
            Ok(user) => user,
            Err(err) => {
                count_login(match err {
                    AuthError::RateLimited { .. } => "rate_limited",
                    _ => "failed",
                });
                return Err(err);
            }
        };
        if let Some((hash, strategies)) = self.second_factor_challenge(&user).await? {
            count_login("mfa_required");
            return Ok(LoginOutcome::SecondFactorRequired { hash, strategies });
        }
        let credential = self.open_session(user).await?;
        count_login("ok");
        Ok(LoginOutcome::Authenticated(Box::new(credential)))
    }

    /// The user whose email and password these are; an unknown email costs the same hash.
    async fn verify_password(&self, normalized_email: &str, password: String) -> Result<User, AuthError> {
        let user = self.users.user_by_email(normalized_email).await?;
        let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
        if !self.hasher.verify(password, stored_hash).await? {
            return Err(AuthError::InvalidCredentials);
        }
        user.ok_or(AuthError::InvalidCredentials)
    }

    /// Opens a session for a user who has proved who they are.
    pub(crate) async fn open_session(&self, user: User) -> Result<Credential, AuthError> {
        let user_id = user.id;
        let token = self
            .actors
            .sessions
            .call(|reply| SessionMsg::Open { user_id, reply })
            .await??;
        Ok(self.credential(user, token))
    }

    pub(crate) fn credential(&self, user: User, token: IssuedToken) -> Credential {
        let expires_in = token.claims.expires_in(self.clock.unix_now());
        Credential {
            user,
            token,
            expires_in,
        }
    }
}

fn count_login(outcome: &'static str) {
    metrics::counter!(telemetry::LOGINS, "outcome" => outcome).increment(1);
}
