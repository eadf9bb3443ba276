//! The key-encryption keys: from `ENCRYPTION_KEY` (and `ENCRYPTION_KEYS_PREVIOUS`), or, for a
//! development run on SQLite, from a key file generated beside the database.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use secrecy::ExposeSecret;
use vault_cipher_ring::{KeyEncryptionKey, RingCipher};

use crate::settings::Settings;

/// Where the keys came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `ENCRYPTION_KEY`.
    Environment,
    /// A development key file.
    DevFile(PathBuf),
}

/// Builds the cipher from the configured keys. `sqlite_path` is the embedded database, the
/// only place a development key may be generated beside.
///
/// # Errors
/// A malformed key (the message says how to make a good one), or no key outside dev mode.
pub fn load(
    settings: &Settings,
    sqlite_path: Option<&Path>,
) -> anyhow::Result<(RingCipher, KeySource)> {
    let previous = settings
        .previous_keys()
        .iter()
        .enumerate()
        .map(|(i, k)| {
            KeyEncryptionKey::parse(k.expose_secret()).with_context(|| {
                format!(
                    "ENCRYPTION_KEYS_PREVIOUS entry {} is not a valid key",
                    i + 1
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if let Some(key) = &settings.encryption_key {
        let current = KeyEncryptionKey::parse(key.expose_secret())
            .context("ENCRYPTION_KEY is not a valid key")?;
        return Ok((RingCipher::new(current, previous), KeySource::Environment));
    }
    let Some(sqlite_path) = sqlite_path.filter(|_| settings.dev_mode) else {
        bail!(
            "ENCRYPTION_KEY is not set. Generate one with `vault-server keys generate` \
             (or `openssl rand -base64 32`), keep it in your secret manager, and pass it as ENCRYPTION_KEY"
        );
    };
    let file = sqlite_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
        .join("encryption.key");
    let current = load_or_create_dev_key(&file)?;
    Ok((RingCipher::new(current, previous), KeySource::DevFile(file)))
}

fn load_or_create_dev_key(file: &Path) -> anyhow::Result<KeyEncryptionKey> {
    if let Some(dir) = file.parent() {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
    {
        Ok(mut out) => {
            let key = KeyEncryptionKey::generate().context("cannot generate a key")?;
            out.write_all(key.to_base64().expose_secret().as_bytes())
                .and_then(|()| out.write_all(b"\n"))
                .and_then(|()| out.sync_all())
                .with_context(|| format!("cannot write {}", file.display()))?;
            tracing::warn!(file = %file.display(), "generated a DEVELOPMENT encryption key");
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let mode = fs::metadata(file)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(file = %file.display(), mode = format!("{:o}", mode & 0o777), "the development key file is readable by other users; chmod 600 it");
            }
            let text = fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            KeyEncryptionKey::parse(&text)
                .with_context(|| format!("{} does not hold a valid key", file.display()))
        }
        Err(e) => Err(e).with_context(|| format!("cannot create {}", file.display())),
    }
}

/// The loud warning a development run prints.
#[must_use]
pub fn dev_warning(file: &Path) -> String {
    format!(
        "\n\
         !!! DEVELOPMENT MODE: secrets are encrypted with a key generated on this machine and stored\n\
         !!! in {} (mode 0600). Anyone who can read that file can decrypt every secret.\n\
         !!! PRODUCTION MUST SET ITS OWN ENCRYPTION_KEY (`vault-server keys generate`), kept in a\n\
         !!! secret manager, never beside the database.\n",
        file.display()
    )
}
