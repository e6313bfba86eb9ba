//! Use cases: what the HTTP layer (and the CLI) can ask of the server, one service per
//! capability. Each service validates with the domain rules, calls the ports it holds (and
//! only those), and returns domain results or errors. The composition root (`app`) builds
//! every service from one [`Ports`] bundle; a handler gets the one service it needs.
//!
//! | service | file | what it does |
//! |---|---|---|
//! | [`accounts::Accounts`] | `accounts.rs` | sign-up, profile, the admin listing |
//! | [`verification::EmailVerification`] | `verification.rs` | e-mail verification links |
//! | [`account_data::AccountData`] | `account_data.rs` | account deletion and export |
//! | [`audit::Audit`] | `audit.rs` | the audit log: reading, retention |
//! | [`notices::Notices`] | `notices.rs` | security notices by e-mail |
//! | [`password_rules::PasswordRules`] | `password_rules.rs` | strength and breach checks of new passwords |
//! | [`login::Login`] | `login.rs` | email + password, then a session or an MFA challenge; password confirmations |
//! | [`reauth::Reauthentication`] | `reauth.rs` | recent authentication for sensitive changes |
//! | [`sessions::Sessions`] | `sessions.rs` | open (after any proof), refresh, list, logout |
//! | [`session_keeper::SessionKeeper`] | `session_keeper.rs` | the storage side of sessions, run by the session actor |
//! | [`tokens::Tokens`] | `tokens.rs` | bearer authentication, introspection, JWKS |
//! | [`mfa::enrolment::Enrolment`] | `mfa/enrolment.rs` | enrol, validate, list, remove factors |
//! | [`mfa::recovery::RecoveryCodes`] | `mfa/recovery.rs` | recovery code sets |
//! | [`mfa::challenge::Challenges`] | `mfa/challenge.rs` | the second-factor steps of a login |
//! | [`mfa::passkeys::Passkeys`] | `mfa/passkeys.rs` | WebAuthn registration and assertions |
//! | [`passkey_login::PasskeyLogin`] | `passkey_login.rs` | passwordless sign-in with a passkey |
//! | [`passwords::Passwords`] | `passwords.rs` | reset by e-mailed link, change |
//! | [`organizations::Organizations`] | `organizations.rs` | organizations and members |
//! | [`readiness::Readiness`] | `readiness.rs` | does every dependency answer |
//! | [`operator::Operator`] | `operator.rs` | the command line's account commands |
//! | [`overview::AccountOverview`] | `overview.rs` | what the account page shows at once |
//! | [`clients::OAuthClients`] | `clients.rs` | OpenID Connect clients: registration, listing, removal |
//! | [`oidc::authorize::Authorizations`] | `oidc/authorize.rs` | the OpenID Connect authorization endpoint's decisions, codes |
//! | [`oidc::token::TokenGrants`] | `oidc/token.rs` | the token endpoint's grants, userinfo (claims and ID tokens in `oidc/claims.rs`) |
//! | [`forms::FormTokens`] | `forms.rs` | anti-forgery tokens of the hosted pages' forms |

pub mod account_data;
pub mod accounts;
pub mod audit;
pub mod clients;
pub mod connected_accounts;
pub mod forms;
pub mod login;
pub mod mfa;
pub mod notices;
pub mod oidc;
pub mod operator;
pub mod organizations;
pub mod overview;
pub mod passkey_login;
pub mod password_rules;
pub mod passwords;
pub mod readiness;
pub mod reauth;
pub mod session_keeper;
pub mod sessions;
pub mod sign_in_flows;
pub mod throttle;
pub mod tokens;
pub mod upstream_sign_in;
pub mod verification;

use std::sync::Arc;

use crate::domain::token::Claims;
use crate::domain::user::User;
use crate::domain::AuthError;
use crate::ports::{
    BreachedPasswords, Cache, ClientStore, Clock, CodeStore, ConsentStore, DataKey, EventLog, IdTokenSigning,
    IdentityStore, Messages, MfaStore, OneTimeSecrets, OrganizationStore, PasskeyCeremonies, PasskeyStore,
    PasswordHashing, PasswordResetStore, RevocationBus, SecurityEvents, SessionStore, TokenSigning, UserStore,
    VerificationStore,
};

/// Every port the composition root wired, handed to the service constructors; each service
/// keeps only the ones it uses, in private fields.
#[derive(Clone)]
pub struct Ports {
    pub users: Arc<dyn UserStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub organizations: Arc<dyn OrganizationStore>,
    pub clients: Arc<dyn ClientStore>,
    pub codes: Arc<dyn CodeStore>,
    pub consents: Arc<dyn ConsentStore>,
    pub identities: Arc<dyn IdentityStore>,
    pub factors: Arc<dyn MfaStore>,
    pub passkeys: Arc<dyn PasskeyStore>,
    pub resets: Arc<dyn PasswordResetStore>,
    pub verifications: Arc<dyn VerificationStore>,
    pub event_log: Arc<dyn EventLog>,
    pub cache: Arc<dyn Cache>,
    pub bus: Arc<dyn RevocationBus>,
    pub hasher: Arc<dyn PasswordHashing>,
    pub breached: Arc<dyn BreachedPasswords>,
    pub signer: Arc<dyn TokenSigning>,
    pub id_tokens: Arc<dyn IdTokenSigning>,
    pub ceremonies: Arc<dyn PasskeyCeremonies>,
    pub data_key: Arc<dyn DataKey>,
    pub secrets: Arc<dyn OneTimeSecrets>,
    pub messages: Arc<dyn Messages>,
    pub events: Arc<dyn SecurityEvents>,
    pub clock: Arc<dyn Clock>,
}

/// The account behind a token; a token of a deleted account is no longer valid.
async fn account_of(users: &dyn UserStore, caller: &Claims) -> Result<User, AuthError> {
    users.user_by_id(caller.sub).await?.ok_or(AuthError::InvalidToken)
}
