//! The use-case tier: the capability services called directly, without HTTP, on the
//! embedded adapters (SQLite in a temporary folder, the in-process cache) and a
//! [`ManualClock`], so expiry, grace periods and time limits are tested by moving the clock
//! instead of sleeping.

mod flows;
mod login;
mod oauth;
mod sessions;

use std::sync::Arc;

use authd::app::App;
use authd::config::Config;
use authd::domain::credential::Credential;
use authd::domain::events::Origin;
use authd::http::state::AppState;
use authd::ports::ManualClock;
use authd::usecases::accounts::SignUp;
use authd::usecases::login::LoginOutcome;
use secrecy::SecretString;

use crate::common::{Backend, PASSWORD};

/// When every use-case test starts (a Unix time in 2027).
pub const START: i64 = 1_800_000_000;

/// The services of one app on its own database, and the clock they read.
pub struct Services {
    app: App,
    pub clock: Arc<ManualClock>,
    _backend: Backend,
}

impl Services {
    /// An app on a fresh SQLite database, its settings adjusted, its clock at [`START`].
    pub async fn start(adjust: impl FnOnce(&mut Config)) -> Self {
        let backend = Backend::sqlite();
        let mut config = backend.config();
        adjust(&mut config);
        let clock = Arc::new(ManualClock::at(START));
        let app = App::build_with_clock(&config, clock.clone()).await.unwrap();
        Self {
            app,
            clock,
            _backend: backend,
        }
    }

    pub fn get(&self) -> &AppState {
        self.app.services()
    }

    /// Signs up `email` with [`PASSWORD`] and signs in: its credential.
    pub async fn signed_in(&self, email: &str) -> Credential {
        let request = SignUp {
            name: "Ada Lovelace".into(),
            email: email.into(),
            password: SecretString::from(PASSWORD),
            phone: None,
        };
        self.get().accounts.sign_up(None, request, &origin()).await.unwrap();
        match self
            .get()
            .login
            .login(email, SecretString::from(PASSWORD), &origin())
            .await
        {
            Ok(LoginOutcome::Authenticated(credential)) => *credential,
            other => panic!("no session: {other:?}"),
        }
    }

    pub async fn stop(self) {
        self.app.close().await;
    }
}

/// Where the tests' requests come from.
pub fn origin() -> Origin {
    Origin {
        ip: "192.0.2.10".parse().unwrap(),
        user_agent: Some("use-case test".into()),
    }
}
