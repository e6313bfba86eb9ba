//! Every capability service, built from the ports and the configuration: the router's
//! state. Services that need another service get it here, so this is the one place their
//! dependencies are visible at once.

use std::sync::Arc;

use crate::actors::revocation::RevocationView;
use crate::actors::supervisor::ActorSlots;
use crate::config::Config;
use crate::federation::Federation;
use crate::http::pages::settings::{Brand, Logo, PageSettings};
use crate::http::state::{AppState, ClientAddressing};
use crate::ports::Cache;
use crate::usecases::account_data::AccountData;
use crate::usecases::accounts::{AccountHelpers, Accounts};
use crate::usecases::audit::Audit;
use crate::usecases::clients::OAuthClients;
use crate::usecases::connected_accounts::ConnectedAccounts;
use crate::usecases::forms::FormTokens;
use crate::usecases::login::{Login, LoginSteps};
use crate::usecases::mfa::challenge::{Challenges, SecondFactors};
use crate::usecases::mfa::enrolment::Enrolment;
use crate::usecases::mfa::passkeys::Passkeys;
use crate::usecases::mfa::recovery::RecoveryCodes;
use crate::usecases::notices::Notices;
use crate::usecases::oidc::authorize::Authorizations;
use crate::usecases::oidc::logout::RpLogout;
use crate::usecases::oidc::revocation::ClientTokens;
use crate::usecases::oidc::token::TokenGrants;
use crate::usecases::oidc::Issuer;
use crate::usecases::organizations::Organizations;
use crate::usecases::overview::AccountOverview;
use crate::usecases::passkey_login::PasskeyLogin;
use crate::usecases::password_rules::PasswordRules;
use crate::usecases::passwords::{PasswordHelpers, Passwords};
use crate::usecases::readiness::Readiness;
use crate::usecases::reauth::Reauthentication;
use crate::usecases::sessions::Sessions;
use crate::usecases::sign_in_flows::SignInFlows;
use crate::usecases::throttle::Throttle;
use crate::usecases::tokens::Tokens;
use crate::usecases::upstream_sign_in::{UpstreamSignIn, UpstreamSteps};
use crate::usecases::verification::EmailVerification;
use crate::usecases::Ports;

/// Every capability service, wired from the ports: the router's state.
pub(super) fn services(
    ports: &Ports,
    config: &Config,
    actors: &ActorSlots,
    revoked: RevocationView,
    throttle_cache: Arc<dyn Cache>,
) -> anyhow::Result<AppState> {
    let throttle = Throttle::new(throttle_cache, config.throttle_policy());
    let reauth = Reauthentication::new(
        ports.sessions.clone(),
        ports.clock.clone(),
        config.reauth_window_secs as i64,
    );
    let notices = Arc::new(Notices::new(ports, config.security_notices));
    let rules = Arc::new(PasswordRules::new(ports));
    let verification = Arc::new(EmailVerification::new(ports, config.verification()));
    let audit = Arc::new(Audit::new(ports, config.events_retention()));
    let sessions = Arc::new(Sessions::new(ports, actors.sessions.clone(), notices.clone()));
    let recovery = Arc::new(RecoveryCodes::new(ports, notices.clone()));
    let passkeys = Arc::new(Passkeys::new(ports));
    let challenges = Arc::new(Challenges::new(
        ports,
        throttle.clone(),
        SecondFactors {
            recovery: recovery.clone(),
            passkeys: passkeys.clone(),
        },
        sessions.clone(),
        actors.mfa.clone(),
    ));
    let passkey_login = Arc::new(PasskeyLogin::new(
        ports,
        throttle.clone(),
        passkeys.clone(),
        sessions.clone(),
        verification.clone(),
    ));
    let accounts = Arc::new(Accounts::new(
        ports,
        AccountHelpers {
            throttle: throttle.clone(),
            reauth: reauth.clone(),
            rules: rules.clone(),
            verification: verification.clone(),
            notices: notices.clone(),
        },
        config.signup,
    ));
    let clients = Arc::new(OAuthClients::new(ports, sessions.clone(), &config.cors_origins));
    let connected_accounts = Arc::new(ConnectedAccounts::new(ports, reauth.clone()));
    let overview = Arc::new(AccountOverview::new(
        accounts.clone(),
        sessions.clone(),
        audit.clone(),
        clients.clone(),
        connected_accounts.clone(),
    ));
    let tokens = Arc::new(Tokens::new(ports, revoked));
    let client_tokens = Arc::new(ClientTokens::new(
        ports,
        clients.clone(),
        tokens.clone(),
        sessions.clone(),
    ));
    let issuer = Issuer::new(&config.public_url);
    let sign_in_flows = Arc::new(SignInFlows::new(ports));
    let providers = Arc::new(Federation::new(&config.upstreams, ports.clock.clone())?);
    let upstream = Arc::new(UpstreamSignIn::new(
        ports,
        providers,
        UpstreamSteps {
            flows: sign_in_flows.clone(),
            accounts: accounts.clone(),
            challenges: challenges.clone(),
            sessions: sessions.clone(),
            verification: verification.clone(),
        },
        &config.public_url,
    ));
    Ok(AppState {
        upstream,
        connected_accounts,
        accounts,
        overview,
        authorizations: Arc::new(Authorizations::new(ports, sessions.clone(), issuer.clone())),
        token_grants: Arc::new(TokenGrants::new(
            ports,
            clients.clone(),
            sessions.clone(),
            issuer.clone(),
            config.token_ttl_secs as i64,
        )),
        client_tokens,
        rp_logout: Arc::new(RpLogout::new(ports, sessions.clone(), issuer.clone())),
        clients,
        issuer,
        forms: Arc::new(FormTokens::new(ports)),
        sign_in_flows,
        pages: Arc::new(page_settings(config)?),
        login: Arc::new(Login::new(
            ports,
            throttle.clone(),
            LoginSteps {
                reauth: reauth.clone(),
                challenges: challenges.clone(),
                sessions: sessions.clone(),
                verification: verification.clone(),
            },
        )),
        tokens: tokens.clone(),
        enrolment: Arc::new(Enrolment::new(
            ports,
            throttle.clone(),
            notices.clone(),
            passkeys,
            reauth.clone(),
        )),
        passkey_login,
        passwords: Arc::new(Passwords::new(
            ports,
            PasswordHelpers {
                throttle: throttle.clone(),
                sessions: sessions.clone(),
                rules,
                notices,
            },
            config.password_reset(),
        )),
        account_data: Arc::new(AccountData::new(
            ports,
            sessions.clone(),
            audit.clone(),
            throttle.clone(),
            reauth.clone(),
            config.session_policy().token_ttl,
        )),
        verification,
        audit,
        organizations: Arc::new(Organizations::new(ports)),
        readiness: Arc::new(Readiness::new(ports, actors.clone())),
        addressing: ClientAddressing {
            header: config.client_ip_header.as_deref().map(Arc::from),
        },
        sessions,
        recovery,
        challenges,
    })
}

/// The hosted pages' settings: the brand (its logo read now) and the origins forms may
/// come from (the public URL's and the WebAuthn origins).
pub(super) fn page_settings(config: &Config) -> anyhow::Result<PageSettings> {
    let logo = match &config.brand_logo_file {
        None => None,
        Some(path) => {
            let name = path.to_string_lossy();
            let content_type = Logo::content_type_of(&name)
                .ok_or_else(|| anyhow::anyhow!("AUTH_BRAND_LOGO_FILE: use a .png, .svg or .jpg file"))?;
            let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("AUTH_BRAND_LOGO_FILE {name}: {e}"))?;
            Some(Logo { content_type, bytes })
        }
    };
    let brand = Brand {
        name: config.brand_name.clone(),
        color: config.brand_color.clone(),
        logo,
    };
    let upstreams = config
        .upstreams
        .iter()
        .map(|provider| (provider.id.as_str().to_owned(), provider.name.clone()))
        .collect();
    Ok(PageSettings::new(brand, &config.public_url, &config.webauthn_origins)?.with_upstreams(upstreams))
}
