//! The `authd` binary: `serve` (default), `migrate`, `admin create`, `health`, `config`.

use std::io::Read as _;

use anyhow::Context as _;
use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use tokio::net::TcpListener;

use authd::app::App;
use authd::config::Config;
use authd::storage::sql::SqlStore;
use commands::{client_command, user_command, ClientCommand, UserCommand};

mod commands;

/// mimalloc returns freed memory to the OS; glibc's malloc kept hundreds of MiB in per-thread
/// arenas under load (the SQLite driver runs one thread per connection).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "authd",
    version,
    about = "A small, fast, self-hostable authentication server"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// A TOML file of settings (keys as in `authd config example`); the environment
    /// overrides it, and flags override both.
    #[arg(long = "config", env = "AUTH_CONFIG", global = true)]
    config_file: Option<std::path::PathBuf>,
    #[command(flatten)]
    config: Config,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Ask a running server whether it is ready (`GET /health/ready`); exit 0 only when it
    /// is. For container health checks.
    Health {
        /// Where to ask; default: `/health/ready` on `AUTH_LISTEN` (loopback when that is a
        /// wildcard address).
        #[arg(long)]
        url: Option<String>,
    },
    /// The configuration file.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Accounts, straight on the database (for when the HTTP API is out of reach).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Sessions: end every session of an account, on every running instance.
    Session {
        #[command(subcommand)]
        command: SessionCommand,
    },
    /// OpenID Connect clients: the applications that sign people in through authd.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// The token signing key.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
}

#[derive(Subcommand)]
enum SessionCommand {
    /// End every session of an account.
    Revoke {
        /// The account's id or e-mail.
        #[arg(long)]
        user: String,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Make a new signing key at AUTH_JWT_KEY_FILE and keep the old one beside it, whose
    /// tokens stay valid where AUTH_JWT_PREVIOUS_KEY_FILES names it.
    Rotate {
        /// Rotate the RSA key of ID tokens (AUTH_OIDC_RSA_KEY_FILE) instead; its old public
        /// key stays in the JWKS where AUTH_OIDC_PREVIOUS_RSA_KEY_FILES names it.
        #[arg(long)]
        id_token_key: bool,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration (secrets redacted); fail on a bad one.
    Check,
    /// Print a configuration file with every key at its default.
    Example,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an administrator; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
}

fn main() -> anyhow::Result<()> {
    // The file's settings become environment variables the environment does not set
    // already, before any thread starts; then clap reads flags, environment and defaults.
    let args: Vec<String> = std::env::args().collect();
    let file = match authd::config_file::config_path(&args) {
        Some(path) => authd::config_file::read(&path)?,
        None => Default::default(),
    };
    authd::config_file::apply(&file.variables);
    let matches = Cli::command().get_matches();
    let mut cli = Cli::from_arg_matches(&matches)?;
    cli.config.upstreams = file.upstreams;
    tokio::runtime::Runtime::new()?.block_on(run(cli, matches))
}

async fn run(cli: Cli, matches: clap::ArgMatches) -> anyhow::Result<()> {
    authd::telemetry::init(cli.config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&cli.config).await,
        Command::Migrate => {
            SqlStore::connect(&cli.config.database_url).await?.migrate().await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Admin {
            command: AdminCommand::Create { email, name },
        } => create_admin(&cli.config, &email, &name).await,
        Command::Health { url } => health(&cli.config, url).await,
        Command::User { command } => user_command(&cli.config, command).await,
        Command::Client { command } => client_command(&cli.config, command).await,
        Command::Session {
            command: SessionCommand::Revoke { user },
        } => {
            let app = App::build(&cli.config).await?;
            let result = app.operator().revoke_sessions(&user).await;
            app.close().await;
            let user = result.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("every session of {} ended", user.email.as_str());
            Ok(())
        }
        Command::Key {
            command: KeyCommand::Rotate { id_token_key },
        } => {
            let (path, previous, variable) = match id_token_key {
                false => {
                    let path = &cli.config.jwt_key_file;
                    (
                        path,
                        authd::crypto::jwt::rotate_key_file(path)?,
                        "AUTH_JWT_PREVIOUS_KEY_FILES",
                    )
                }
                true => {
                    let path = &cli.config.oidc_rsa_key_file;
                    let previous = authd::crypto::id_tokens::rotate_rsa_key_file(path)?;
                    (path, previous, "AUTH_OIDC_PREVIOUS_RSA_KEY_FILES")
                }
            };
            println!("new signing key at {}", path.display());
            println!("the old key is at {}", previous.display());
            println!("restart every instance with {variable}={}", previous.display());
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Example,
        } => {
            print!("{}", authd::config_file::example());
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Check,
        } => {
            for (key, value) in authd::config_file::effective(&matches) {
                println!("{key} = {value}");
            }
            for provider in authd::config_file::effective_upstreams(&cli.config.upstreams) {
                println!("{provider}");
            }
            authd::app::check(&cli.config)?;
            println!("# the configuration is valid");
            Ok(())
        }
    }
}

/// Exits 0 when `/health/ready` answers 200; otherwise says what answered and fails.
async fn health(config: &Config, url: Option<String>) -> anyhow::Result<()> {
    let url = url.unwrap_or_else(|| {
        let mut address = config.listen;
        if address.ip().is_unspecified() {
            address.set_ip(match address {
                std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        format!("http://{address}/health/ready")
    });
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .build()?;
    let response = http
        .get(&url)
        .send()
        .await
        .with_context(|| format!("{url} did not answer"))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if status.is_success() {
        println!("ready");
        Ok(())
    } else {
        anyhow::bail!("not ready ({status}): {body}")
    }
}

async fn serve(config: &Config) -> anyhow::Result<()> {
    let app = App::build(config).await?;
    // Start-up scratch memory (the dummy argon2 hash: 19 MiB) goes back to the OS now;
    // mimalloc would otherwise keep it until the next allocation burst.
    // SAFETY: `mi_collect` only releases memory mimalloc holds free; no pointer is involved.
    unsafe { libmimalloc_sys::mi_collect(true) };
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!(address = %config.listen, "authd listening");
    let drain_timeout = std::time::Duration::from_secs(config.shutdown_timeout_secs);
    app.serve(listener, shutdown_signal(), drain_timeout).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn create_admin(config: &Config, email: &str, name: &str) -> anyhow::Result<()> {
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let app = App::build(config).await?;
    let created = app
        .accounts()
        .ensure_admin(email, name, password.into())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if !created {
        anyhow::bail!("an account with that email already exists");
    }
    println!("administrator {email} created");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
