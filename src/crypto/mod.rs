//! Secrets work: password hashing on a bounded pool, token signing, and the data key that
//! digests one-time codes and encrypts what must be read back.

use std::path::Path;

pub mod jwt;
pub mod password;
pub mod secrets;
pub mod totp;
pub mod verified;

/// Writes the key with mode 0600 without ever exposing a half-written file, and without
/// clobbering a key another instance wrote first (the caller then reads that one).
pub(crate) fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let staging = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        std::io::Write::write_all(&mut options.open(&staging)?, contents.as_bytes())?;
    }
    let linked = std::fs::hard_link(&staging, path);
    std::fs::remove_file(&staging)?;
    match linked {
        Err(err) if err.kind() != std::io::ErrorKind::AlreadyExists => Err(err.into()),
        _ => Ok(()),
    }
}
