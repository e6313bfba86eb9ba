//! The composition root: the one place that reads configuration, builds the adapters,
//! wires them into the ports and actors, and serves HTTP. Tests start servers through it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorRef};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::actors::mfa::MfaSteps;
use crate::actors::notifications::{NotificationArgs, RetryPolicy};
use crate::actors::revocation::{RevocationArgs, RevocationView};
use crate::actors::supervisor::{ActorSlots, Supervisor, SupervisorArgs};
use crate::config::Config;
use crate::crypto::id_tokens::IdTokenSigner;
use crate::crypto::jwt::TokenSigner;
use crate::crypto::password::PasswordHasher;
use crate::crypto::secrets::Secrets;
use crate::crypto::OsSecrets;
#[cfg(feature = "fault-injection")]
use crate::domain::AuthError;
use crate::http::server::ConnectionLimits;
use crate::http::state::AppState;
use crate::notifications::templates::Templates;
use crate::notifications::webhook::EventPublisher;
use crate::notifications::Notifier;
use crate::ports::{Cache, Clock, DataKey, RevocationBus, SystemClock};
use crate::storage::fallback::FallbackCache;
use crate::storage::memory::{LocalBus, MemoryCache};
use crate::storage::redis::RedisCache;
use crate::storage::sql::{SqlOptions, SqlStore};
use crate::usecases::accounts::Accounts;
use crate::usecases::clients::OAuthClients;
use crate::usecases::oidc::Issuer;
use crate::usecases::operator::Operator;
use crate::usecases::session_keeper::SessionKeeper;
use crate::usecases::Ports;
pub use outbound::check;
use outbound::{breach_check, message_senders, passkey_ceremonies, webhook_sender};
use services::services;
use tasks::{prune_ephemeral, prune_events};

mod outbound;
mod services;
mod tasks;

/// A wired server, ready to serve.
pub struct App {
    state: AppState,
    /// The actors' handles, for fault injection in tests.
    #[cfg(feature = "fault-injection")]
    actors: ActorSlots,
    supervisor: ActorRef<()>,
    sql: SqlStore,
    redis: Option<RedisCache>,
    /// Prunes the audit log past its retention.
    /// Background pruning (audit log, lapsed challenges).
    pruning: Vec<JoinHandle<()>>,
    /// The command line's account commands.
    operator: Arc<Operator>,
    /// How long connections may dawdle, and how many may be open.
    limits: ConnectionLimits,
}

impl App {
    /// Connects to storage, applies migrations, loads the signing key and revocations,
    /// starts the actors and makes the start-up admin.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`App::build`] on `clock` instead of the wall clock: the use-case tests run the
    /// services on a [`crate::ports::ManualClock`] and move time themselves.
    pub async fn build_with_clock(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        crate::telemetry::metrics::install();
        let settings = SqlOptions {
            flush_rotations: config.database_flush_rotations,
        };
        let sql = SqlStore::connect_with(&config.database_url, settings).await?;
        sql.migrate().await?;
        let redis = match &config.redis_url {
            Some(url) => Some(RedisCache::connect(url, &config.redis_namespace).await?),
            None => None,
        };
        // MFA challenges, passkey ceremonies and e-mail counters must stay exact across
        // instances and through a Redis outage: where instances share the database, it
        // keeps them; a lone SQLite process keeps them in memory.
        let cache: Arc<dyn Cache> = match sql.is_shared() {
            true => Arc::new(sql.clone()),
            false => Arc::new(MemoryCache::default()),
        };
        // Redis carries what may degrade to per-instance during an outage: rate-limit
        // counters (in process memory meanwhile) and the revocation bus (the database
        // catch-up meanwhile).
        let (throttle_cache, bus): (Arc<dyn Cache>, Arc<dyn RevocationBus>) = match &redis {
            Some(redis) => (
                Arc::new(FallbackCache::new(Arc::new(redis.clone()))),
                Arc::new(redis.clone()),
            ),
            None => (Arc::new(MemoryCache::default()), Arc::new(LocalBus)),
        };
        let data_key: Arc<dyn DataKey> = Arc::new(Secrets::load_or_create(&config.data_key_file)?);
        let actors = ActorSlots::new();
        let publisher = EventPublisher::new(
            config.webhook_url.clone(),
            data_key.clone(),
            actors.notifications.clone(),
        );
        let store = Arc::new(sql.clone().with_fan_out(Arc::new(publisher)));
        let mut signer = TokenSigner::load_or_create(&config.jwt_key_file, &config.jwt_issuer)?
            .with_oauth_issuer(Issuer::new(&config.public_url).as_str());
        for previous in &config.jwt_previous_key_files {
            signer = signer.with_previous_key(&std::fs::read_to_string(previous)?)?;
        }
        let signer = Arc::new(signer);
        let id_tokens = IdTokenSigner::load_or_create(
            &config.oidc_rsa_key_file,
            &config.oidc_previous_rsa_key_files,
            signer.clone(),
        )?;
        let workers = config
            .password_workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        let hasher = PasswordHasher::new(config.hash_cost(), workers, config.password_queue)?;
        let (email, phone) = message_senders(config, clock.clone())?;
        let webhook = webhook_sender(config, clock.clone())?;

        let revoked = RevocationView::default();
        revoked.load(store.as_ref(), clock.unix_now()).await?;
        let notifier = Notifier::new(
            store.clone(),
            data_key.clone(),
            Templates::load()?,
            clock.clone(),
            actors.notifications.clone(),
        );
        let ports = Ports {
            users: store.clone(),
            sessions: store.clone(),
            organizations: store.clone(),
            clients: store.clone(),
            codes: store.clone(),
            consents: store.clone(),
            identities: store.clone(),
            factors: store.clone(),
            passkeys: store.clone(),
            resets: store.clone(),
            verifications: store.clone(),
            event_log: store.clone(),
            cache,
            bus: bus.clone(),
            hasher: Arc::new(hasher),
            breached: breach_check(config)?,
            signer,
            id_tokens: Arc::new(id_tokens),
            ceremonies: passkey_ceremonies(config)?,
            data_key: data_key.clone(),
            secrets: Arc::new(OsSecrets),
            messages: Arc::new(notifier),
            events: store.clone(),
            clock: clock.clone(),
        };
        let state = services(&ports, config, &actors, revoked.clone(), throttle_cache)?;

        let supervisor_args = SupervisorArgs {
            slots: actors.clone(),
            revocation: RevocationArgs {
                view: revoked,
                store: store.clone(),
                bus,
                clock: clock.clone(),
                catch_up_every: Duration::from_millis(config.revocation_catch_up_ms.max(100)),
            },
            sessions: Arc::new(SessionKeeper::new(
                &ports,
                config.session_policy(),
                actors.revocations.clone(),
            )),
            notifications: NotificationArgs {
                outbox: store,
                data_key,
                email,
                phone,
                webhook,
                clock,
                retry: RetryPolicy {
                    base: Duration::from_millis(config.notify_retry_base_ms.max(1)),
                    cap: Duration::from_secs(config.notify_retry_cap_secs.max(1)),
                    max_attempts: config.notify_max_attempts.max(1),
                },
                poll_every: Duration::from_millis(config.notify_poll_ms.max(50)),
            },
            mfa: Some(state.challenges.clone() as Arc<dyn MfaSteps>),
        };
        let (supervisor, _) = Actor::spawn(None, Supervisor, supervisor_args).await?;

        let operator = Arc::new(Operator::new(
            &ports,
            state.sessions.clone(),
            state.account_data.clone(),
        ));
        let mut pruning = vec![tokio::spawn(prune_events(
            state.audit.clone(),
            Duration::from_secs(config.events_prune_every_secs.max(1)),
        ))];
        if sql.is_shared() {
            pruning.push(tokio::spawn(prune_ephemeral(sql.clone(), Duration::from_secs(60))));
        }
        if let (Some(email), Some(password)) = (&config.admin_email, &config.admin_password) {
            let created = state
                .accounts
                .ensure_admin(email, "Administrator", password.clone())
                .await?;
            if created {
                tracing::info!("created the start-up administrator");
            }
        }
        Ok(Self {
            state,
            #[cfg(feature = "fault-injection")]
            actors,
            supervisor,
            sql,
            redis,
            pruning,
            operator,
            limits: ConnectionLimits {
                header_timeout: Duration::from_secs(config.http_header_timeout_secs.max(1)),
                idle_timeout: Duration::from_secs(config.http_idle_timeout_secs.max(1)),
                max_connections: config.http_max_connections,
            },
        })
    }

    /// Every capability service, as the handlers reach them: for the use-case tests, which
    /// call the services without HTTP.
    pub fn services(&self) -> &AppState {
        &self.state
    }

    /// The account service, for the CLI's `admin create`.
    pub fn accounts(&self) -> Arc<Accounts> {
        self.state.accounts.clone()
    }

    /// The OpenID Connect clients, for the CLI.
    pub fn clients(&self) -> Arc<OAuthClients> {
        self.state.clients.clone()
    }

    /// The operator's account commands, for the CLI.
    pub fn operator(&self) -> Arc<Operator> {
        self.operator.clone()
    }

    /// Serves until `shutdown` resolves, then stops accepting, gives in-flight requests up
    /// to `drain_timeout` to finish, and stops the actors.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
        drain_timeout: Duration,
    ) -> anyhow::Result<()> {
        let router = crate::http::router(self.state.clone());
        let (signalled, mut on_signal) = tokio::sync::watch::channel(false);
        let graceful = async move {
            shutdown.await;
            let _ = signalled.send(true);
        };
        let server = crate::http::server::serve(listener, router, self.limits, graceful);
        let deadline = async move {
            let _ = on_signal.wait_for(|signalled| *signalled).await;
            tokio::time::sleep(drain_timeout).await;
        };
        tokio::select! {
            served = server => served?,
            () = deadline => tracing::warn!("in-flight requests outlived the drain deadline; stopping anyway"),
        }
        self.close().await;
        Ok(())
    }

    /// Stops the actors and closes the connections (also how a CLI command ends).
    pub async fn close(self) {
        self.pruning.iter().for_each(JoinHandle::abort);
        self.supervisor.stop(None);
        if let Some(redis) = &self.redis {
            redis.quit().await;
        }
        self.sql.close().await;
    }
}

/// A server running in the background; what tests and embedders hold.
pub struct RunningServer {
    pub addr: SocketAddr,
    #[cfg(feature = "fault-injection")]
    actors: crate::actors::supervisor::ActorSlots,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Builds and starts a server on `config.listen` (port 0 picks a free one).
    pub async fn start(config: &Config) -> anyhow::Result<Self> {
        Self::start_with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`RunningServer::start`] on `clock`: black-box tests move a
    /// [`crate::ports::ManualClock`] past an expiry instead of sleeping.
    pub async fn start_with_clock(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let app = App::build_with_clock(config, clock).await?;
        #[cfg(feature = "fault-injection")]
        let actors = app.actors.clone();
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let (shutdown, stop) = oneshot::channel::<()>();
        let drain_timeout = Duration::from_secs(config.shutdown_timeout_secs);
        let task = tokio::spawn(app.serve(
            listener,
            async move {
                let _ = stop.await;
            },
            drain_timeout,
        ));
        Ok(Self {
            addr,
            #[cfg(feature = "fault-injection")]
            actors,
            shutdown: Some(shutdown),
            task,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Test-only: makes one of this server's actors panic or stall.
    #[cfg(feature = "fault-injection")]
    pub fn inject_fault(&self, actor: &str, fault: crate::actors::fault::Fault) -> Result<(), AuthError> {
        self.actors.inject(actor, fault)
    }

    /// Stops gracefully and waits until everything is closed.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        (&mut self.task).await?
    }
}
