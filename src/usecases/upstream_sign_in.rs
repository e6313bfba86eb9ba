//! Signing in with an account at an upstream provider ("Continue with ..."), as one more
//! stage of the sign-in flow: the departure stores the round trip's secrets in a flow whose
//! random id is the `state` (single use, ten minutes, bound to the browser); the arrival
//! takes that flow, has the provider's answer validated (the port), and applies the
//! contract's three rules of whose account it is (`domain::upstream::whose_account`). An
//! upstream sign-in is a first factor: second factors are still asked.

use std::sync::Arc;

use secrecy::ExposeSecret as _;
use uuid::Uuid;

use super::accounts::Accounts;
use super::connected_accounts::link_identity;
use super::mfa::challenge::Challenges;
use super::sessions::Sessions;
use super::sign_in_flows::SignInFlows;
use super::verification::EmailVerification;
use super::Ports;
use crate::domain::credential::Credential;
use crate::domain::events::{EventKind, Origin, SecurityEvent};
use crate::domain::flow::{PendingLink, SignInFlow, Stage, Then, UPSTREAM_TTL_SECS};
use crate::domain::sign_in_method::SignInMethod;
use crate::domain::upstream::{whose_account, Identity, ProviderId, UpstreamProfile, UpstreamRefusal, Whose};
use crate::domain::user::{Email, User};
use crate::domain::AuthError;
use crate::ports::{
    Arrival, Clock, IdentityStore, OfferedProvider, OneTimeSecrets, SecurityEvents, UpstreamProviders, UserStore,
};

/// Where a departure leads, and what it continues.
pub struct Leaving {
    /// What comes once signed in (an own page, or the authorization in progress).
    pub then: Then,
    /// The sign-in must be fresh (carried over from the flow it continues).
    pub fresh: bool,
    /// Link the identity to this signed-in account instead of signing in (`?link=1`).
    pub link_to: Option<Uuid>,
    /// An identity still waiting for its account to be proved (carried over).
    pub pending: Option<PendingLink>,
}

/// What the provider sent back to the callback.
pub struct Answer {
    pub state: String,
    pub code: Option<String>,
    pub error: Option<String>,
    pub iss: Option<String>,
    pub user: Option<String>,
}

/// How an arrival ends.
pub enum Arrived {
    /// Signed in; the browser goes on through the flow `flow` (its id).
    SignedIn {
        credential: Box<Credential>,
        flow_id: String,
        flow: Box<SignInFlow>,
    },
    /// A second factor is due: the flow `0` (its id) waits at `/ui/mfa`.
    SecondFactor(String),
    /// An account has the address: its owner signs in to it in the flow `0` (its id)
    /// before the identity is linked.
    ProveAccount(String),
    /// The identity was linked to the signed-in account that asked for it.
    Connected,
}

/// The upstream sign-in and linking capability.
pub struct UpstreamSignIn {
    providers: Arc<dyn UpstreamProviders>,
    identities: Arc<dyn IdentityStore>,
    users: Arc<dyn UserStore>,
    events: Arc<dyn SecurityEvents>,
    secrets: Arc<dyn OneTimeSecrets>,
    clock: Arc<dyn Clock>,
    flows: Arc<SignInFlows>,
    accounts: Arc<Accounts>,
    challenges: Arc<Challenges>,
    sessions: Arc<Sessions>,
    verification: Arc<EmailVerification>,
    /// This server's public URL, the base of every callback.
    public_url: String,
}

/// The services an upstream sign-in hands over to.
pub struct UpstreamSteps {
    pub flows: Arc<SignInFlows>,
    pub accounts: Arc<Accounts>,
    pub challenges: Arc<Challenges>,
    pub sessions: Arc<Sessions>,
    pub verification: Arc<EmailVerification>,
}

impl UpstreamSignIn {
    pub fn new(ports: &Ports, providers: Arc<dyn UpstreamProviders>, steps: UpstreamSteps, public_url: &str) -> Self {
        Self {
            providers,
            identities: ports.identities.clone(),
            users: ports.users.clone(),
            events: ports.events.clone(),
            secrets: ports.secrets.clone(),
            clock: ports.clock.clone(),
            flows: steps.flows,
            accounts: steps.accounts,
            challenges: steps.challenges,
            sessions: steps.sessions,
            verification: steps.verification,
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The providers offered (`GET /upstreams`, the pages' buttons).
    pub fn offered(&self) -> &[OfferedProvider] {
        self.providers.offered()
    }

    /// The configured provider `id`; an unknown one is `not_found`.
    pub fn provider(&self, id: &str) -> Result<&OfferedProvider, AuthError> {
        let id = ProviderId::parse(id).map_err(|_| AuthError::NotFound("provider"))?;
        let offered = self.offered().iter().find(|p| p.id == id);
        offered.ok_or(AuthError::NotFound("provider"))
    }

    /// Starts the round trip to `provider` for `browser`: its authorization URL.
    pub async fn depart(&self, provider: &str, browser: &str, leaving: Leaving) -> Result<String, AuthError> {
        let provider = self.provider(provider)?.id.clone();
        let state = self.secrets.random_token(32).expose_secret().to_owned();
        let departure = self
            .providers
            .departure(&provider, &state, &self.callback(&provider))
            .await
            .map_err(AuthError::Upstream)?;
        let now = self.clock.unix_now();
        let stage = Stage::Upstream {
            provider: provider.as_str().to_owned(),
            nonce: departure.nonce,
            pkce_verifier: departure.pkce_verifier,
            link_to: leaving.link_to,
        };
        let flow = SignInFlow {
            fresh: leaving.fresh,
            link: leaving.pending,
            expires_at: now + UPSTREAM_TTL_SECS,
            ..SignInFlow::start(stage, leaving.then, browser, now)
        };
        self.flows.save(&state, &flow).await?;
        Ok(departure.url)
    }

    /// The provider's answer for `browser`: validated, then whose account it is decided.
    /// Every refusal is recorded as a failed sign-in with its reason.
    pub async fn arrive(
        &self,
        provider: &str,
        answer: Answer,
        browser: &str,
        origin: &Origin,
    ) -> Result<Arrived, AuthError> {
        let provider = self.provider(provider)?.clone();
        let result = self.arrival(&provider, answer, browser, origin).await;
        if let Err(err) = &result {
            let reason = match err {
                AuthError::Upstream(refusal) => refusal.reason(),
                AuthError::AccountDisabled => "account_disabled",
                AuthError::EmailNotVerified => "email_not_verified",
                _ => "upstream_failed",
            };
            let event = SecurityEvent::new(EventKind::LoginFailed, None, self.clock.stamp())
                .from(origin)
                .with("reason", reason)
                .with("provider", provider.id.as_str());
            self.events.record(event).await;
        }
        result
    }

    async fn arrival(
        &self,
        provider: &OfferedProvider,
        answer: Answer,
        browser: &str,
        origin: &Origin,
    ) -> Result<Arrived, AuthError> {
        let refused = |refusal| AuthError::Upstream(refusal);
        let flow = self.flows.take(&answer.state, browser).await?;
        let flow = flow.ok_or(refused(UpstreamRefusal::BadState))?;
        let Stage::Upstream {
            provider: started_at,
            nonce,
            pkce_verifier,
            link_to,
        } = flow.stage.clone()
        else {
            return Err(refused(UpstreamRefusal::BadState));
        };
        if started_at != provider.id.as_str() {
            return Err(refused(UpstreamRefusal::BadState));
        }
        if answer.error.is_some() {
            return Err(refused(UpstreamRefusal::Denied));
        }
        let arrival = Arrival {
            code: answer
                .code
                .filter(|c| !c.is_empty())
                .ok_or(refused(UpstreamRefusal::BadAnswer))?,
            iss: answer.iss,
            user: answer.user,
            nonce,
            pkce_verifier,
        };
        let profile = self
            .providers
            .arrival(&provider.id, arrival, &self.callback(&provider.id))
            .await
            .map_err(refused)?;
        let linked = self.identities.identity(&provider.id, &profile.subject).await?;
        if let Some(user_id) = link_to {
            return self.connect(user_id, linked, provider, &profile, origin).await;
        }
        let same_email = match profile.email.as_deref().map(Email::parse) {
            Some(Ok(email)) => self.users.user_by_email(&email).await?,
            _ => None,
        };
        let policy = provider.policy;
        match whose_account(
            linked.as_ref().map(|i| i.user_id),
            same_email.as_ref(),
            &profile,
            policy,
        ) {
            Whose::Linked(user_id) => {
                let user = self.account(user_id).await?;
                if let Some(identity) = &linked {
                    self.identities
                        .touch_identity(identity.id, self.clock.unix_now())
                        .await?;
                }
                self.sign_in(user, provider, flow, browser, origin).await
            }
            Whose::LinkByEmail(user_id) => {
                let user = self.account(user_id).await?;
                self.link(user.id, provider, &profile, origin).await?;
                self.sign_in(user, provider, flow, browser, origin).await
            }
            Whose::ProveFirst(user_id) => {
                let pending = PendingLink {
                    user_id,
                    provider: provider.id.as_str().to_owned(),
                    provider_name: provider.name.clone(),
                    subject: profile.subject.clone(),
                    email: profile.email.clone(),
                };
                let mut next = flow.at(Stage::Credentials).fresh();
                next.link = Some(pending);
                Ok(Arrived::ProveAccount(self.flows.begin(next).await?))
            }
            Whose::NewAccount => {
                let user = self
                    .accounts
                    .create_from_upstream(&profile, &provider.id, origin)
                    .await?;
                self.link(user.id, provider, &profile, origin).await?;
                self.verification.offer_link(&user).await;
                self.sign_in(user, provider, flow, browser, origin).await
            }
            Whose::NoAccount if profile.email.is_none() && policy.signup => Err(refused(UpstreamRefusal::NoEmail)),
            Whose::NoAccount => Err(refused(UpstreamRefusal::NoAccount)),
        }
    }

    /// `?link=1`: the identity joins the signed-in account `user_id`.
    async fn connect(
        &self,
        user_id: Uuid,
        linked: Option<Identity>,
        provider: &OfferedProvider,
        profile: &UpstreamProfile,
        origin: &Origin,
    ) -> Result<Arrived, AuthError> {
        match linked {
            Some(identity) if identity.user_id == user_id => Ok(Arrived::Connected),
            Some(_) => Err(AuthError::Upstream(UpstreamRefusal::LinkedElsewhere)),
            None => {
                self.link(user_id, provider, profile, origin).await?;
                Ok(Arrived::Connected)
            }
        }
    }

    /// The account is found: refused when disabled or unverified (where that blocks
    /// sign-in), else a second factor when it has one, else a session.
    async fn sign_in(
        &self,
        user: User,
        provider: &OfferedProvider,
        flow: SignInFlow,
        browser: &str,
        origin: &Origin,
    ) -> Result<Arrived, AuthError> {
        if user.disabled {
            return Err(AuthError::AccountDisabled);
        }
        if self.verification.blocks_sign_in(&user) {
            self.verification.offer_link(&user).await;
            return Err(AuthError::EmailNotVerified);
        }
        let upstream = provider.id.as_str();
        let then = flow.then.clone();
        if let Some((hash, strategies)) = self.challenges.second_factor_challenge(&user, Some(upstream)).await? {
            let next = SignInFlow {
                link: flow.link,
                ..SignInFlow::start(
                    Stage::ChooseFactor { strategies, hash },
                    then,
                    browser,
                    self.clock.unix_now(),
                )
            };
            return Ok(Arrived::SecondFactor(self.flows.begin(next).await?));
        }
        let credential = self
            .sessions
            .open_by(&user, SignInMethod::Upstream, Some(upstream), origin)
            .await?;
        let next = SignInFlow {
            link: flow.link,
            ..SignInFlow::start(Stage::SignedIn, then, browser, self.clock.unix_now())
        };
        let id = self.flows.begin(next.clone()).await?;
        Ok(Arrived::SignedIn {
            credential: Box::new(credential),
            flow_id: id,
            flow: Box::new(next),
        })
    }

    /// Links the identity `profile` describes at `provider` to `user_id`.
    async fn link(
        &self,
        user_id: Uuid,
        provider: &OfferedProvider,
        profile: &UpstreamProfile,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        let (identities, clock) = (self.identities.as_ref(), self.clock.as_ref());
        let (provider, subject, email) = (provider.id.as_str(), &profile.subject, profile.email.clone());
        link_identity(identities, clock, user_id, provider, subject, email, Some(origin)).await
    }

    /// The account `user_id` whose identity or address the provider's answer named.
    async fn account(&self, user_id: Uuid) -> Result<User, AuthError> {
        let user = self.users.user_by_id(user_id).await?;
        user.ok_or(AuthError::Upstream(UpstreamRefusal::NoAccount))
    }

    fn callback(&self, provider: &ProviderId) -> String {
        format!("{}/login/upstream/{}/callback", self.public_url, provider.as_str())
    }
}
