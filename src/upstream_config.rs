//! The upstream identity providers of the configuration file: one `[upstream.<id>]` table
//! each (API.md part 3), read into [`UpstreamProvider`] with every rule checked when the
//! file is read, so `authd config check` refuses a file a server could not use. Secrets
//! come from the file or from a file of their own (`client_secret_file`).

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;

use crate::domain::upstream::{AccountPolicy, Linking, ProviderId, ProviderKind};

/// One provider, as a server uses it.
#[derive(Debug, Clone)]
pub struct UpstreamProvider {
    pub id: ProviderId,
    pub kind: ProviderKind,
    /// Shown as "Continue with <name>".
    pub name: String,
    /// Where Discovery is read (`<issuer>/.well-known/openid-configuration`); `None` for
    /// GitHub, which has none.
    pub issuer: Option<String>,
    pub client_id: String,
    /// `None` for Apple, whose secret is a JWT made from [`AppleKey`].
    pub client_secret: Option<SecretString>,
    pub scopes: Vec<String>,
    pub policy: AccountPolicy,
    /// GitHub's endpoints (overridable, so tests can point at a fake).
    pub github: Option<GithubEndpoints>,
    pub apple: Option<AppleKey>,
}

/// The endpoints of GitHub's OAuth 2.0 and its API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GithubEndpoints {
    pub auth_url: String,
    pub token_url: String,
    pub api_url: String,
}

/// What Apple's client secret (an ES256 JWT) is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppleKey {
    pub team_id: String,
    pub key_id: String,
    /// The private key downloaded from Apple (PKCS#8 PEM).
    pub private_key_file: PathBuf,
}

/// A table as written in the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    kind: String,
    name: String,
    issuer: Option<String>,
    client_id: String,
    client_secret: Option<String>,
    client_secret_file: Option<PathBuf>,
    scopes: Option<Vec<String>>,
    linking: Option<String>,
    signup: Option<bool>,
    auth_url: Option<String>,
    token_url: Option<String>,
    api_url: Option<String>,
    team_id: Option<String>,
    key_id: Option<String>,
    private_key_file: Option<PathBuf>,
}

/// The providers of the `upstream` table of a configuration file; relative paths are
/// read from `base` (the file's folder).
pub fn parse(upstream: &toml::Value, base: &Path) -> anyhow::Result<Vec<UpstreamProvider>> {
    let toml::Value::Table(table) = upstream else {
        anyhow::bail!("`upstream` must hold one table per provider, like [upstream.corp]");
    };
    table
        .iter()
        .map(|(id, value)| {
            let section: Section = value
                .clone()
                .try_into()
                .map_err(|e| anyhow::anyhow!("[upstream.{id}]: {}", e.message()))?;
            provider(id, section, base).map_err(|e| anyhow::anyhow!("[upstream.{id}]: {e}"))
        })
        .collect()
}

fn provider(id: &str, section: Section, base: &Path) -> anyhow::Result<UpstreamProvider> {
    let id = ProviderId::parse(id).map_err(|_| anyhow::anyhow!("the id must be 1 to 32 of a-z, 0-9 and -"))?;
    let kind = ProviderKind::parse(&section.kind)
        .map_err(|_| anyhow::anyhow!("`kind` must be oidc, google, microsoft, apple, gitlab or github"))?;
    let linking = match section.linking.as_deref() {
        None => Linking::default(),
        Some(text) => {
            Linking::parse(text).map_err(|_| anyhow::anyhow!("`linking` must be confirm or verified_email"))?
        }
    };
    if section.name.trim().is_empty() {
        anyhow::bail!("`name` is empty");
    }
    let issuer = match (kind, section.issuer) {
        (ProviderKind::Github, Some(_)) => anyhow::bail!("github has no issuer; set auth_url, token_url and api_url"),
        (ProviderKind::Github, None) => None,
        (_, Some(issuer)) => Some(https_or_loopback("issuer", issuer)?),
        (ProviderKind::Oidc, None) => anyhow::bail!("`issuer` is required for kind = \"oidc\""),
        (preset, None) => Some(default_issuer(preset).to_owned()),
    };
    let github = match kind {
        ProviderKind::Github => Some(GithubEndpoints {
            auth_url: https_or_loopback("auth_url", section.auth_url.unwrap_or_else(|| GITHUB_AUTH.into()))?,
            token_url: https_or_loopback("token_url", section.token_url.unwrap_or_else(|| GITHUB_TOKEN.into()))?,
            api_url: https_or_loopback("api_url", section.api_url.unwrap_or_else(|| GITHUB_API.into()))?,
        }),
        _ if section.auth_url.is_some() || section.token_url.is_some() || section.api_url.is_some() => {
            anyhow::bail!("auth_url, token_url and api_url are for github; other kinds use Discovery")
        }
        _ => None,
    };
    let secret = match (section.client_secret, section.client_secret_file) {
        (Some(_), Some(_)) => anyhow::bail!("set client_secret or client_secret_file, not both"),
        (Some(secret), None) => Some(secret),
        (None, Some(path)) => {
            let path = base.join(path);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| anyhow::anyhow!("client_secret_file {}: {e}", path.display()))?;
            Some(text.trim().to_owned())
        }
        (None, None) => None,
    };
    let apple = match (kind, section.team_id, section.key_id, section.private_key_file) {
        (ProviderKind::Apple, Some(team_id), Some(key_id), Some(file)) => {
            let private_key_file = base.join(file);
            let pem = std::fs::read(&private_key_file)
                .map_err(|e| anyhow::anyhow!("private_key_file {}: {e}", private_key_file.display()))?;
            jsonwebtoken::EncodingKey::from_ec_pem(&pem)
                .map_err(|_| anyhow::anyhow!("private_key_file is not a P-256 private key in PEM (PKCS#8)"))?;
            Some(AppleKey {
                team_id,
                key_id,
                private_key_file,
            })
        }
        (ProviderKind::Apple, ..) => anyhow::bail!("apple needs team_id, key_id and private_key_file"),
        (_, None, None, None) => None,
        _ => anyhow::bail!("team_id, key_id and private_key_file are for apple"),
    };
    let client_secret = match (kind, secret) {
        (ProviderKind::Apple, Some(_)) => {
            anyhow::bail!("apple's client secret is made from its key; set no client_secret")
        }
        (ProviderKind::Apple, None) => None,
        (_, Some(secret)) if !secret.is_empty() => Some(SecretString::from(secret)),
        _ => anyhow::bail!("client_secret or client_secret_file is required"),
    };
    if section.client_id.trim().is_empty() {
        anyhow::bail!("`client_id` is empty");
    }
    Ok(UpstreamProvider {
        id,
        kind,
        name: section.name.trim().to_owned(),
        issuer,
        client_id: section.client_id,
        client_secret,
        scopes: section.scopes.unwrap_or_else(|| default_scopes(kind)),
        policy: AccountPolicy {
            linking,
            signup: section.signup.unwrap_or(true),
        },
        github,
        apple,
    })
}

const GITHUB_AUTH: &str = "https://github.com/login/oauth/authorize";
const GITHUB_TOKEN: &str = "https://github.com/login/oauth/access_token";
const GITHUB_API: &str = "https://api.github.com";

/// The issuer of a preset kind.
fn default_issuer(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Google => "https://accounts.google.com",
        // Multi-tenant: each token's issuer names its tenant, checked against its `tid`.
        ProviderKind::Microsoft => "https://login.microsoftonline.com/common/v2.0",
        ProviderKind::Apple => "https://appleid.apple.com",
        ProviderKind::Gitlab => "https://gitlab.com",
        ProviderKind::Oidc | ProviderKind::Github => unreachable!("oidc names its issuer; github has none"),
    }
}

fn default_scopes(kind: ProviderKind) -> Vec<String> {
    let scopes: &[&str] = match kind {
        ProviderKind::Github => &["read:user", "user:email"],
        // Apple knows no `profile`; it sends the name once, with `name`.
        ProviderKind::Apple => &["openid", "email", "name"],
        _ => &["openid", "email", "profile"],
    };
    scopes.iter().map(|s| (*s).to_owned()).collect()
}

/// `value` when it is an https URL, or http on a loopback host (tests, a local provider).
fn https_or_loopback(key: &str, value: String) -> anyhow::Result<String> {
    let url = url::Url::parse(&value).map_err(|e| anyhow::anyhow!("`{key}` is not a URL: {e}"))?;
    let loopback = matches!(
        url.host(),
        Some(url::Host::Ipv4(ip)) if ip.is_loopback()
    ) || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
        || url.host_str() == Some("localhost");
    match url.scheme() {
        "https" => Ok(value.trim_end_matches('/').to_owned()),
        "http" if loopback => Ok(value.trim_end_matches('/').to_owned()),
        _ => anyhow::bail!("`{key}` must be https (http only on loopback)"),
    }
}

/// A commented example of the tables, for `authd config example`.
pub const EXAMPLE: &str = r#"
# Upstream identity providers ("Continue with ..."), one table each; the table's name is
# the provider's id (a-z, 0-9 and -, at most 32), part of the redirect URI to register at
# the provider: <public_url>/login/upstream/<id>/callback. See docs/UPSTREAM.md.
# [upstream.corp]
# kind = "oidc"                 # oidc | google | microsoft | apple | gitlab | github
# name = "Corp SSO"             # shown as "Continue with Corp SSO"
# issuer = "https://sso.corp.example"   # oidc: required; google, microsoft, apple, gitlab: theirs by default
# client_id = "..."
# client_secret = "..."         # or client_secret_file = "/run/secrets/corp"
# scopes = ["openid", "email", "profile"]   # github: ["read:user", "user:email"]; apple: ["openid", "email", "name"]
# linking = "confirm"           # confirm (default) | verified_email
# signup = true                 # make an account on first sign-in (needs open sign-up)
# github: auth_url, token_url, api_url (GitHub's by default)
# apple: team_id, key_id, private_key_file instead of a client secret
"#;

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    fn read(text: &str) -> anyhow::Result<Vec<UpstreamProvider>> {
        let table: toml::Table = text.parse().unwrap();
        parse(&table["upstream"], Path::new("/etc/authd"))
    }

    fn refusal(text: &str) -> String {
        read(text).unwrap_err().to_string()
    }

    #[test]
    fn a_provider_takes_the_defaults_of_its_kind() {
        let providers = read(
            "[upstream.corp]\nkind = \"oidc\"\nname = \"Corp SSO\"\nissuer = \"https://sso.corp.example/\"\n\
             client_id = \"authd\"\nclient_secret = \"s3cret\"\n\
             [upstream.gh]\nkind = \"github\"\nname = \"GitHub\"\nclient_id = \"Iv1\"\nclient_secret = \"x\"\n\
             api_url = \"http://127.0.0.1:9999\"\nlinking = \"verified_email\"\nsignup = false\n\
             [upstream.google]\nkind = \"google\"\nname = \"Google\"\nclient_id = \"g\"\nclient_secret = \"y\"\n",
        )
        .unwrap();
        let corp = providers.iter().find(|p| p.id.as_str() == "corp").unwrap();
        assert_eq!(corp.issuer.as_deref(), Some("https://sso.corp.example"));
        assert_eq!(corp.scopes, ["openid", "email", "profile"]);
        assert_eq!(corp.client_secret.as_ref().unwrap().expose_secret(), "s3cret");
        assert_eq!(corp.policy.linking, Linking::Confirm);
        assert!(corp.policy.signup);
        let github = providers.iter().find(|p| p.id.as_str() == "gh").unwrap();
        assert_eq!(github.scopes, ["read:user", "user:email"]);
        let endpoints = github.github.as_ref().unwrap();
        assert_eq!(endpoints.api_url, "http://127.0.0.1:9999");
        assert_eq!(endpoints.token_url, GITHUB_TOKEN);
        assert_eq!(github.policy.linking, Linking::VerifiedEmail);
        assert!(!github.policy.signup);
        let google = providers.iter().find(|p| p.kind == ProviderKind::Google).unwrap();
        assert_eq!(google.issuer.as_deref(), Some("https://accounts.google.com"));
    }

    #[test]
    fn a_secret_may_live_in_a_file_of_its_own() {
        let dir = std::env::temp_dir().join(format!("authd-upstream-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("corp.secret"), "from-a-file\n").unwrap();
        let table: toml::Table = "[upstream.corp]\nkind = \"gitlab\"\nname = \"GitLab\"\nclient_id = \"c\"\n\
             client_secret_file = \"corp.secret\"\n"
            .parse()
            .unwrap();
        let providers = parse(&table["upstream"], &dir).unwrap();
        assert_eq!(
            providers[0].client_secret.as_ref().unwrap().expose_secret(),
            "from-a-file"
        );
        assert_eq!(providers[0].issuer.as_deref(), Some("https://gitlab.com"));
    }

    #[test]
    fn what_a_server_could_not_use_is_refused_with_the_reason() {
        let base = "name = \"X\"\nclient_id = \"c\"\n";
        for (table, reason) in [
            (
                format!("[upstream.Corp]\nkind = \"oidc\"\nissuer = \"https://a\"\nclient_secret = \"s\"\n{base}"),
                "the id",
            ),
            (
                format!("[upstream.a]\nkind = \"saml\"\nclient_secret = \"s\"\n{base}"),
                "`kind`",
            ),
            (
                format!("[upstream.a]\nkind = \"oidc\"\nclient_secret = \"s\"\n{base}"),
                "`issuer` is required",
            ),
            (
                format!(
                    "[upstream.a]\nkind = \"oidc\"\nissuer = \"http://sso.example\"\nclient_secret = \"s\"\n{base}"
                ),
                "https",
            ),
            (format!("[upstream.a]\nkind = \"google\"\n{base}"), "client_secret"),
            (
                format!("[upstream.a]\nkind = \"google\"\nclient_secret = \"s\"\nclient_secret_file = \"f\"\n{base}"),
                "not both",
            ),
            (
                format!("[upstream.a]\nkind = \"google\"\nclient_secret = \"s\"\nlinking = \"always\"\n{base}"),
                "`linking`",
            ),
            (
                format!("[upstream.a]\nkind = \"google\"\nclient_secret = \"s\"\napi_url = \"https://a\"\n{base}"),
                "for github",
            ),
            (
                format!("[upstream.a]\nkind = \"github\"\nclient_secret = \"s\"\nissuer = \"https://a\"\n{base}"),
                "no issuer",
            ),
            (
                format!("[upstream.a]\nkind = \"apple\"\nteam_id = \"T\"\n{base}"),
                "team_id, key_id and private_key_file",
            ),
            (
                format!("[upstream.a]\nkind = \"google\"\nclient_secret = \"s\"\nsecret = \"s\"\n{base}"),
                "unknown field",
            ),
        ] {
            let refused = refusal(&table);
            assert!(refused.contains(reason), "{table}\n=> {refused}");
        }
    }

    #[test]
    fn apple_makes_its_secret_from_its_key() {
        let key = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/apple-test.p8");
        let table = |file: &Path| {
            format!(
                "[upstream.apple]\nkind = \"apple\"\nname = \"Apple\"\nclient_id = \"com.example.web\"\n\
                 team_id = \"TEAM123456\"\nkey_id = \"KEY1234567\"\nprivate_key_file = \"{}\"\n",
                file.display()
            )
        };
        let providers = read(&table(&key)).unwrap();
        let apple = &providers[0];
        assert!(apple.client_secret.is_none());
        assert_eq!(apple.scopes, ["openid", "email", "name"]);
        assert_eq!(apple.apple.as_ref().unwrap().private_key_file, key);
        // Not a key (an RSA one here): refused when the file is read, not at the first sign-in.
        let rsa = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oidc-rsa.pem");
        assert!(refusal(&table(&rsa)).contains("P-256"));
        assert!(refusal(&table(Path::new("/nonexistent/apple.p8"))).contains("private_key_file"));
    }
}
