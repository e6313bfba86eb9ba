//! The binary's account and client commands (`authd user ...`, `authd client ...`): each
//! builds the app without serving and calls one service. Part of `main.rs`, not of the
//! library.

use authd::app::App;
use authd::config::Config;
use authd::domain::oauth::ClientRequest;
use clap::Subcommand;
use secrecy::ExposeSecret as _;

#[derive(Subcommand)]
pub enum UserCommand {
    /// List accounts, oldest first.
    List {
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Start after this account id.
        #[arg(long)]
        after: Option<uuid::Uuid>,
    },
    /// Show one account (id or e-mail), its organizations and factors.
    Show { user: String },
    /// Disable an account (id or e-mail): it cannot sign in, and its sessions end.
    Disable { user: String },
    /// Enable a disabled account again.
    Enable { user: String },
    /// Delete an account and everything held about it.
    Delete { user: String },
}

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints its id and, for a confidential client, its secret (once).
    Create {
        #[arg(long)]
        name: String,
        /// Where the client may be sent back to (exact; repeat for several).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Where RP-initiated logout may send the browser (exact; repeat for several).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// A client that cannot keep a secret (single-page or mobile app): PKCE required.
        #[arg(long)]
        public: bool,
        /// The operator's own application: no consent page.
        #[arg(long)]
        first_party: bool,
        /// Scopes it may ask for (repeat); default: every scope.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Grants it may use (repeat); default: authorization_code and refresh_token.
        #[arg(long = "grant")]
        grants: Vec<String>,
        /// How its ID tokens are signed: RS256 (the default) or EdDSA.
        #[arg(long)]
        id_token_alg: Option<String>,
        /// Register an API (RFC 8707) under this URI: applications ask for tokens meant
        /// for it with `resource=`, and it introspects them with this client's secret.
        #[arg(long)]
        resource: Option<String>,
    },
    /// List the clients, oldest first.
    List,
    /// Remove a client.
    Delete { client_id: String },
}

/// Runs one `authd user` command on a server built from `config` (not serving).
pub async fn user_command(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    let app = App::build(config).await?;
    let operator = app.operator();
    let shown = |user: &authd::domain::user::User| {
        let state = if user.disabled { " (disabled)" } else { "" };
        let admin = if user.is_admin { " admin" } else { "" };
        format!("{}\t{}\t{}{admin}{state}", user.id, user.email.as_str(), user.name)
    };
    let result = async {
        match command {
            UserCommand::List { limit, after } => {
                for user in operator.list(after, limit.clamp(1, 1000)).await? {
                    println!("{}", shown(&user));
                }
            }
            UserCommand::Show { user } => {
                let profile = operator.show(&user).await?;
                println!("{}", shown(&profile.user));
                println!("email verified: {}", profile.user.email_verified);
                for (organization, role) in &profile.organizations {
                    println!(
                        "organization {} {} ({})",
                        organization.id,
                        organization.name,
                        role.as_str()
                    );
                }
                for factor in &profile.factors {
                    println!(
                        "factor {} {} enabled={}",
                        factor.id,
                        factor.strategy.as_str(),
                        factor.enabled
                    );
                }
            }
            UserCommand::Disable { user } => println!("disabled {}", shown(&operator.set_disabled(&user, true).await?)),
            UserCommand::Enable { user } => println!("enabled {}", shown(&operator.set_disabled(&user, false).await?)),
            UserCommand::Delete { user } => println!("deleted {}", operator.delete(&user).await?.email.as_str()),
        }
        Ok::<_, authd::domain::AuthError>(())
    }
    .await;
    app.close().await;
    result.map_err(|e| anyhow::anyhow!("{e}"))
}

/// Runs one `authd client` command.
pub async fn client_command(config: &Config, command: ClientCommand) -> anyhow::Result<()> {
    let app = App::build(config).await?;
    let clients = app.clients();
    let result = async {
        match command {
            ClientCommand::Create {
                name,
                redirect_uris,
                post_logout_redirect_uris,
                public,
                first_party,
                scopes,
                grants,
                id_token_alg,
                resource,
            } => {
                let request = ClientRequest {
                    name,
                    redirect_uris,
                    post_logout_redirect_uris,
                    public,
                    first_party,
                    scopes: (!scopes.is_empty()).then_some(scopes),
                    grants: (!grants.is_empty()).then_some(grants),
                    id_token_alg,
                    resource,
                };
                let registered = clients.register(request).await?;
                println!("client_id = {}", registered.client.id);
                if let Some(secret) = registered.secret {
                    println!("client_secret = {}", secret.expose_secret());
                    println!("# the secret is shown only now; authd keeps its digest");
                }
            }
            ClientCommand::List => {
                for client in clients.list().await? {
                    let kind = if client.public { "public" } else { "confidential" };
                    let party = if client.first_party { " first-party" } else { "" };
                    println!(
                        "{}\t{}\t{kind}{party}\t{}",
                        client.id,
                        client.name,
                        client.redirect_uris.join(" ")
                    );
                }
            }
            ClientCommand::Delete { client_id } => {
                clients.delete(&client_id).await?;
                println!("deleted client {client_id}");
            }
        }
        Ok::<_, authd::domain::AuthError>(())
    }
    .await;
    app.close().await;
    result.map_err(|e| anyhow::anyhow!("{e}"))
}
