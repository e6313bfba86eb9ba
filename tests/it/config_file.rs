//! The configuration file: file under environment under flags, unknown keys, `config check`
//! and the example file that cannot drift from the settings.

use std::path::Path;
use std::process::{Command, Output};

fn authd(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_authd"))
        .env_clear()
        .envs(env.iter().copied())
        .args(args)
        .output()
        .expect("authd runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn file(text: &str) -> tempfile_path::TempFile {
    tempfile_path::TempFile::with(text)
}

/// A file under the system's temporary folder, removed when dropped.
mod tempfile_path {
    pub struct TempFile(pub std::path::PathBuf);

    impl TempFile {
        pub fn with(text: &str) -> Self {
            let path = std::env::temp_dir().join(format!("authd-{}.toml", uuid::Uuid::new_v4().simple()));
            std::fs::write(&path, text).unwrap();
            Self(path)
        }

        pub fn arg(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

#[test]
fn the_file_sits_under_the_environment_and_flags_override_both() {
    let config = file(
        "listen = \"127.0.0.1:9001\"\ntoken_ttl_secs = 120\npublic_url = \"https://auth.example.com\"\n\
         webauthn_origins = [\"https://auth.example.com\", \"https://app.auth.example.com\"]\n",
    );
    let from_file = authd(&["--config", config.arg(), "config", "check"], &[]);
    assert!(from_file.status.success(), "{}", stderr(&from_file));
    let shown = stdout(&from_file);
    assert!(shown.contains("listen = 127.0.0.1:9001"), "{shown}");
    assert!(shown.contains("token_ttl_secs = 120"), "{shown}");
    assert!(
        shown.contains("webauthn_origins = https://auth.example.com,https://app.auth.example.com"),
        "{shown}"
    );

    let by_env = authd(
        &["config", "check"],
        &[("AUTH_CONFIG", config.arg()), ("AUTH_LISTEN", "127.0.0.1:9002")],
    );
    let shown = stdout(&by_env);
    assert!(
        shown.contains("listen = 127.0.0.1:9002"),
        "the environment wins: {shown}"
    );
    assert!(
        shown.contains("token_ttl_secs = 120"),
        "the rest still from the file: {shown}"
    );

    let by_flag = authd(
        &[
            "--config",
            config.arg(),
            "--listen",
            "127.0.0.1:9003",
            "config",
            "check",
        ],
        &[("AUTH_LISTEN", "127.0.0.1:9002")],
    );
    assert!(
        stdout(&by_flag).contains("listen = 127.0.0.1:9003"),
        "a flag wins: {}",
        stdout(&by_flag)
    );
}

#[test]
fn an_unknown_key_is_an_error_naming_the_closest_valid_one() {
    let config = file("databse_url = \"sqlite://x.db\"\n");
    let refused = authd(&["--config", config.arg(), "config", "check"], &[]);
    assert!(!refused.status.success());
    let said = stderr(&refused);
    assert!(
        said.contains("`databse_url`") && said.contains("`database_url`"),
        "{said}"
    );
}

#[test]
fn config_check_redacts_secrets_and_fails_on_a_bad_configuration() {
    let config = file(
        "admin_password = \"hunter2-admin\"\nsmtp_url = \"smtps://mail:hunter2-smtp@mail.example.com\"\n\
         redis_url = \"redis://:hunter2-redis@127.0.0.1:6379\"\n",
    );
    let checked = authd(&["--config", config.arg(), "config", "check"], &[]);
    assert!(checked.status.success(), "{}", stderr(&checked));
    let shown = stdout(&checked);
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("admin_password = (redacted)"), "{shown}");
    assert!(shown.contains("redis_url = redis://:***@127.0.0.1:6379"), "{shown}");

    for bad in [
        "token_ttl_secs = \"soon\"\n",
        "webhook_url = \"https://hooks.example.com\"\n",
        "database_url = \"mysql://x\"\n",
        "webauthn_rp_id = \"other.example\"\npublic_url = \"https://auth.example.com\"\n",
    ] {
        let config = file(bad);
        let refused = authd(&["--config", config.arg(), "config", "check"], &[]);
        assert!(!refused.status.success(), "{bad} passed: {}", stdout(&refused));
    }
}

#[test]
fn the_example_file_is_what_the_settings_say() {
    let printed = authd(&["config", "example"], &[]);
    assert!(printed.status.success());
    let committed = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("authd.example.toml")).unwrap();
    assert_eq!(
        stdout(&printed),
        committed,
        "authd.example.toml is stale: run `authd config example > authd.example.toml`"
    );
    // And it is a valid file as it stands.
    let config = file(&committed);
    assert!(authd(&["--config", config.arg(), "config", "check"], &[])
        .status
        .success());
}

#[test]
fn upstream_providers_are_checked_and_shown_without_their_secrets() {
    let config = file(
        "[upstream.corp]\nkind = \"oidc\"\nname = \"Corp SSO\"\nissuer = \"https://sso.corp.example\"\n\
         client_id = \"authd\"\nclient_secret = \"hunter2-upstream\"\n",
    );
    let checked = authd(&["--config", config.arg(), "config", "check"], &[]);
    assert!(checked.status.success(), "{}", stderr(&checked));
    let shown = stdout(&checked);
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(
        shown.contains("[upstream.corp] kind = oidc, name = \"Corp SSO\", issuer = https://sso.corp.example"),
        "{shown}"
    );

    let unusable =
        file("[upstream.corp]\nkind = \"oidc\"\nname = \"Corp SSO\"\nclient_id = \"a\"\nclient_secret = \"s\"\n");
    let refused = authd(&["--config", unusable.arg(), "config", "check"], &[]);
    assert!(!refused.status.success());
    let said = stderr(&refused);
    assert!(
        said.contains("[upstream.corp]") && said.contains("`issuer` is required"),
        "{said}"
    );
}
