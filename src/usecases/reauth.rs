//! Recent authentication (ASVS 3.7.1): removing a factor and changing the e-mail need a
//! session that signed in, or confirmed its password, within the re-authentication window
//! (`AUTH_REAUTH_WINDOW_SECS`). A stolen bearer token alone then cannot lock its owner out.

use std::sync::Arc;

use uuid::Uuid;

use crate::domain::token::Claims;
use crate::domain::AuthError;
use crate::ports::{Clock, SessionStore};

/// Checks and renews a session's recent authentication.
#[derive(Clone)]
pub struct Reauthentication {
    store: Arc<dyn SessionStore>,
    clock: Arc<dyn Clock>,
    window_secs: i64,
}

impl Reauthentication {
    pub fn new(store: Arc<dyn SessionStore>, clock: Arc<dyn Clock>, window_secs: i64) -> Self {
        Self {
            store,
            clock,
            window_secs,
        }
    }

    /// Ok when the caller's session authenticated within the window; else 403
    /// `reauthentication_required`.
    pub async fn ensure_recent(&self, caller: &Claims) -> Result<(), AuthError> {
        let now = self.clock.unix_now();
        match self.store.session_with_holder(caller.sid).await? {
            Some((session, _)) if session.recently_authenticated(now, self.window_secs) => Ok(()),
            _ => Err(AuthError::ReauthenticationRequired),
        }
    }

    /// Records that the session `sid` proved its holder again now.
    pub async fn renew(&self, sid: Uuid) -> Result<(), AuthError> {
        let now = self.clock.unix_now();
        match self.store.confirm_session(sid, now).await? {
            true => Ok(()),
            false => Err(AuthError::InvalidToken),
        }
    }
}
