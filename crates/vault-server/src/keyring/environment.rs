//! The static keys: `ENCRYPTION_KEY` (and `ENCRYPTION_KEYS_PREVIOUS`), or, for a
//! development run on SQLite (`VAULT_DEV_MODE=true`, which `make run` sets), a key file
//! generated beside the database.

use std::fs;
use std::io::{Read as _, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use secrecy::ExposeSecret;
use vault_cipher_ring::KeyEncryptionKey;
use zeroize::Zeroizing;

use crate::settings::Settings;

/// Where the static keys came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `ENCRYPTION_KEY` (or, with a key manager, `ENCRYPTION_KEYS_PREVIOUS` alone).
    Environment,
    /// A development key file.
    DevFile(PathBuf),
    /// None: a key manager holds every key.
    None,
}

/// The static keys, the current one (`ENCRYPTION_KEY`) first.
#[derive(Debug)]
pub struct StaticKeys {
    /// Never empty when the static key manager is configured.
    pub keys: Vec<KeyEncryptionKey>,
    /// Where they came from.
    pub source: KeySource,
}

/// How to make a key, for every refusal.
const HOW_TO_GENERATE: &str = "Generate one with `vault-server keys generate` (or \
     `openssl rand -base64 32`), keep it in your secret manager, and pass it as ENCRYPTION_KEY";

/// Reads the static keys. `sqlite_path` is the embedded database, the only place a
/// development key may be generated beside; `required` (the static key manager) makes a
/// missing `ENCRYPTION_KEY` an error (or, in dev mode, generates the key file).
///
/// # Errors
/// A malformed or non-random current key (the message says how to make a good one), no key
/// when one is required outside dev mode, or a development key file that others could have
/// planted or read.
pub fn load(
    settings: &Settings,
    sqlite_path: Option<&Path>,
    required: bool,
) -> anyhow::Result<StaticKeys> {
    let previous = settings
        .previous_keys()
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let key = KeyEncryptionKey::parse(k.expose_secret()).with_context(|| {
                format!(
                    "ENCRYPTION_KEYS_PREVIOUS entry {} is not a valid key",
                    i + 1
                )
            })?;
            // Kept, not refused: a previous key only opens what it already sealed, and
            // refusing it would lock those rows away. The rewrap moves them off it.
            if let Err(weak) = key.check_random() {
                loud(&format!(
                    "ENCRYPTION_KEYS_PREVIOUS entry {} is not a random key ({weak}). It is kept \
                     only to open rows sealed under it: run `vault-server keys rewrap`, then \
                     remove it",
                    i + 1
                ));
            }
            Ok(key)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let with = |current: KeyEncryptionKey, previous: Vec<KeyEncryptionKey>, source| StaticKeys {
        keys: std::iter::once(current).chain(previous).collect(),
        source,
    };
    if let Some(key) = &settings.encryption_key {
        let current = KeyEncryptionKey::parse(key.expose_secret())
            .and_then(|key| key.check_random().map(|()| key))
            .context("ENCRYPTION_KEY is refused")?;
        return Ok(with(current, previous, KeySource::Environment));
    }
    if !required {
        let source = if previous.is_empty() {
            KeySource::None
        } else {
            KeySource::Environment
        };
        return Ok(StaticKeys {
            keys: previous,
            source,
        });
    }
    if !settings.dev_mode {
        bail!(
            "ENCRYPTION_KEY is not set. {HOW_TO_GENERATE}. (For a local development run on \
             SQLite only, VAULT_DEV_MODE=true, which `make run` sets, uses a key file beside \
             the database instead.)"
        );
    }
    let Some(sqlite_path) = sqlite_path else {
        bail!(
            "ENCRYPTION_KEY is not set, and development mode keeps a key file only beside an \
             SQLite database. {HOW_TO_GENERATE}"
        );
    };
    let file = dev_key_file(sqlite_path);
    let current = load_or_create_dev_key(&file)?;
    Ok(with(current, previous, KeySource::DevFile(file)))
}

/// Where development mode keeps its key: beside the SQLite file.
#[must_use]
pub fn dev_key_file(sqlite_path: &Path) -> PathBuf {
    sqlite_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
        .join("encryption.key")
}

/// Creates the directory of the development key (and database) readable by this user
/// only. An existing directory is left as it is.
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.as_os_str().is_empty() || dir.exists() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

fn load_or_create_dev_key(file: &Path) -> anyhow::Result<KeyEncryptionKey> {
    if let Some(dir) = file.parent() {
        create_private_dir(dir)?;
    }
    // `create_new` is O_CREAT|O_EXCL: it never follows a link planted in the key's place.
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
            loud(&format!(
                "generated a DEVELOPMENT encryption key in {}",
                file.display()
            ));
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_dev_key(file),
        Err(e) => Err(e).with_context(|| format!("cannot create {}", file.display())),
    }
}

/// Reads an existing development key file, refusing one that someone else could have put
/// there or read: a link, a file of another user, or one open to group or others.
fn read_dev_key(file: &Path) -> anyhow::Result<KeyEncryptionKey> {
    let shown = file.display();
    let refuse = |why: String| {
        anyhow::anyhow!(
            "refusing the development key file {shown}: {why}. The vault only uses a key file \
             it made itself and that no one else can read. Set ENCRYPTION_KEY instead \
             (`vault-server keys generate`)"
        )
    };
    let link = fs::symlink_metadata(file).with_context(|| format!("cannot read {shown}"))?;
    if link.file_type().is_symlink() {
        return Err(refuse("it is a symbolic link".to_owned()));
    }
    let mut handle = fs::File::open(file).with_context(|| format!("cannot read {shown}"))?;
    // Checked on the open file, and the same inode as the path's: no swap in between.
    let meta = handle
        .metadata()
        .with_context(|| format!("cannot read {shown}"))?;
    if (meta.dev(), meta.ino()) != (link.dev(), link.ino()) || !meta.is_file() {
        return Err(refuse("it is not a regular file".to_owned()));
    }
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(refuse(format!(
            "it belongs to user id {}, not to the user the server runs as ({me})",
            meta.uid()
        )));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(refuse(format!(
            "its mode {mode:o} lets group or others read or write it (it must be 600)"
        )));
    }
    let mut text = Zeroizing::new(String::new());
    handle
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read {shown}"))?;
    KeyEncryptionKey::parse(&text)
        .and_then(|key| key.check_random().map(|()| key))
        .with_context(|| format!("{shown} does not hold a usable key"))
}

/// A warning about keys: logged at WARN, which the default log level shows on stderr.
/// (Admin commands also print [`dev_warning`] to stderr as it is.)
fn loud(message: &str) {
    tracing::warn!("{message}");
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
