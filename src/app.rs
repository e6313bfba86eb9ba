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

use crate::actors::revocation::{RevocationArgs, RevocationView};
use crate::actors::supervisor::{ActorSlots, Supervisor, SupervisorArgs};
use crate::config::Config;
use crate::crypto::jwt::TokenSigner;
use crate::crypto::password::PasswordHasher;
use crate::ports::{AttemptCounter, Clock, OrganizationStore, RevocationBus, SessionStore, SystemClock, UserStore};
use crate::storage::memory::{LocalBus, MemoryCounter};
use crate::storage::redis::RedisCache;
use crate::storage::sql::SqlStore;
use crate::usecases::sessions::SessionService;
use crate::usecases::{Core, Settings};

/// A wired server, ready to serve.
pub struct App {
    core: Arc<Core>,
    supervisor: ActorRef<()>,
    sql: SqlStore,
    redis: Option<RedisCache>,
}

impl App {
    /// Connects to storage, applies migrations, loads the signing key and revocations,
    /// starts the actors and makes the start-up admin.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let sql = SqlStore::connect(&config.database_url).await?;
        sql.migrate().await?;
        let redis = match &config.redis_url {
            Some(url) => Some(RedisCache::connect(url, &config.redis_namespace).await?),
            None => None,
        };
        let (attempts, bus): (Arc<dyn AttemptCounter>, Arc<dyn RevocationBus>) = match &redis {
            Some(redis) => (Arc::new(redis.clone()), Arc::new(redis.clone())),
            None => (Arc::new(MemoryCounter::default()), Arc::new(LocalBus)),
        };
        let store = Arc::new(sql.clone());
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let signer = Arc::new(TokenSigner::load_or_create(&config.jwt_key_file, &config.jwt_issuer)?);
        let workers = config
            .password_workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        let hasher = PasswordHasher::new(config.hash_cost(), workers, config.password_queue)?;

        let revoked = RevocationView::default();
        revoked.load(store.as_ref(), clock.unix_now()).await?;
        let slots = ActorSlots::new();
        let sessions = Arc::new(SessionService {
            store: store.clone(),
            signer: signer.clone(),
            clock: clock.clone(),
            policy: config.session_policy(),
            revocations: slots.revocations.clone(),
        });
        let revocation = RevocationArgs {
            view: revoked.clone(),
            store: store.clone(),
            bus: bus.clone(),
            clock: clock.clone(),
            catch_up_every: Duration::from_millis(config.revocation_catch_up_ms.max(100)),
        };
        let supervisor_args = SupervisorArgs {
            slots: slots.clone(),
            revocation,
            sessions,
        };
        let (supervisor, _) = Actor::spawn(None, Supervisor, supervisor_args).await?;

        let core = Arc::new(Core {
            users: store.clone() as Arc<dyn UserStore>,
            session_store: store.clone() as Arc<dyn SessionStore>,
            organizations: store as Arc<dyn OrganizationStore>,
            bus,
            attempts,
            hasher,
            signer,
            clock,
            revoked,
            actors: slots,
            settings: Settings {
                signup: config.signup,
                sessions: config.session_policy(),
                login_throttle: config.login_throttle(),
            },
        });
        if let (Some(email), Some(password)) = (&config.admin_email, &config.admin_password) {
            let created = core.ensure_admin(email, "Administrator", password.clone()).await?;
            if created {
                tracing::info!("created the start-up administrator");
            }
        }
        Ok(Self {
            core,
            supervisor,
            sql,
            redis,
        })
    }

    pub fn core(&self) -> Arc<Core> {
        self.core.clone()
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests and stops the actors.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = crate::http::router(self.core.clone());
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await?;
        self.stop().await;
        Ok(())
    }

    async fn stop(self) {
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
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Builds and starts a server on `config.listen` (port 0 picks a free one).
    pub async fn start(config: &Config) -> anyhow::Result<Self> {
        let app = App::build(config).await?;
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let (shutdown, stop) = oneshot::channel::<()>();
        let task = tokio::spawn(app.serve(listener, async move {
            let _ = stop.await;
        }));
        Ok(Self {
            addr,
            shutdown: Some(shutdown),
            task,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops gracefully and waits until everything is closed.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        (&mut self.task).await?
    }
}
