//! What the handlers can reach: one field per capability service, and the HTTP settings.
//! A handler names the one service it needs (`State(accounts): State<Arc<Accounts>>`);
//! [`FromRef`] hands it out, so no handler can reach a port or an adapter.

use std::sync::Arc;

use axum::extract::FromRef;

use super::pages::settings::PageSettings;
use crate::usecases::account_data::AccountData;
use crate::usecases::accounts::Accounts;
use crate::usecases::audit::Audit;
use crate::usecases::clients::OAuthClients;
use crate::usecases::connected_accounts::ConnectedAccounts;
use crate::usecases::forms::FormTokens;
use crate::usecases::login::Login;
use crate::usecases::mfa::challenge::Challenges;
use crate::usecases::mfa::enrolment::Enrolment;
use crate::usecases::mfa::recovery::RecoveryCodes;
use crate::usecases::oidc::authorize::Authorizations;
use crate::usecases::oidc::logout::RpLogout;
use crate::usecases::oidc::revocation::ClientTokens;
use crate::usecases::oidc::token::TokenGrants;
use crate::usecases::oidc::Issuer;
use crate::usecases::organizations::Organizations;
use crate::usecases::overview::AccountOverview;
use crate::usecases::passkey_login::PasskeyLogin;
use crate::usecases::passwords::Passwords;
use crate::usecases::readiness::Readiness;
use crate::usecases::sessions::Sessions;
use crate::usecases::sign_in_flows::SignInFlows;
use crate::usecases::tokens::Tokens;
use crate::usecases::upstream_sign_in::UpstreamSignIn;
use crate::usecases::verification::EmailVerification;

/// Where the client address comes from: a header set by a trusted proxy, else the peer.
#[derive(Debug, Clone, Default)]
pub struct ClientAddressing {
    /// Header naming the client address; `None`: the peer address of the connection.
    pub header: Option<Arc<str>>,
}

/// The router's state; `FromRef` hands each field to the handlers that extract it.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub accounts: Arc<Accounts>,
    pub login: Arc<Login>,
    pub sessions: Arc<Sessions>,
    pub tokens: Arc<Tokens>,
    pub enrolment: Arc<Enrolment>,
    pub recovery: Arc<RecoveryCodes>,
    pub challenges: Arc<Challenges>,
    pub passwords: Arc<Passwords>,
    pub passkey_login: Arc<PasskeyLogin>,
    pub organizations: Arc<Organizations>,
    pub readiness: Arc<Readiness>,
    pub verification: Arc<EmailVerification>,
    pub account_data: Arc<AccountData>,
    pub audit: Arc<Audit>,
    pub overview: Arc<AccountOverview>,
    pub clients: Arc<OAuthClients>,
    pub authorizations: Arc<Authorizations>,
    pub token_grants: Arc<TokenGrants>,
    pub client_tokens: Arc<ClientTokens>,
    pub rp_logout: Arc<RpLogout>,
    pub issuer: Issuer,
    pub forms: Arc<FormTokens>,
    pub sign_in_flows: Arc<SignInFlows>,
    pub upstream: Arc<UpstreamSignIn>,
    pub connected_accounts: Arc<ConnectedAccounts>,
    pub pages: Arc<PageSettings>,
    pub addressing: ClientAddressing,
}
