//! The config file: the server's URL and the access key saved by `vault login`.
//!
//! It holds a key that opens the organization's credentials, so it is treated like an SSH
//! private key: created with mode 0600 from the first byte (never written, then chmod-ed),
//! replaced atomically, and refused when other users can read it.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::CliError;

/// Largest config file read: it holds two short strings.
const MAX_CONFIG_BYTES: u64 = 64 * 1024;

/// What the config file holds.
#[derive(Debug, Default)]
pub(crate) struct Config {
    /// Base URL of the server, e.g. `https://vault.example.com`.
    pub(crate) server: Option<String>,
    /// The access key; sent to `server` only.
    pub(crate) access_key: Option<SecretString>,
}

#[derive(Deserialize)]
struct OnDisk {
    server: Option<String>,
    access_key: Option<String>,
}

#[derive(Serialize)]
struct ToDisk<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key: Option<&'a str>,
}

/// `$XDG_CONFIG_HOME/vault/config.toml`, else `~/.config/vault/config.toml`.
pub(crate) fn default_path() -> Result<PathBuf, CliError> {
    // The XDG base directory spec: a relative XDG_CONFIG_HOME is invalid and ignored.
    if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from)
        && dir.is_absolute()
    {
        return Ok(dir.join("vault").join("config.toml"));
    }
    match std::env::var_os("HOME").map(PathBuf::from) {
        Some(home) if home.is_absolute() => {
            Ok(home.join(".config").join("vault").join("config.toml"))
        }
        _ => Err(CliError::local(
            "no config file location: HOME is not set; pass --config PATH or set VAULT_CLI_CONFIG",
        )),
    }
}

/// Reads the config file; `None` when there is none.
///
/// # Errors
/// When other users may read it (like ssh with a private key), or it cannot be read or
/// parsed.
pub(crate) fn load(path: &Path) -> Result<Option<Config>, CliError> {
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(CliError::local(format!(
                "cannot read the config file {}: {error}",
                path.display()
            )));
        }
    };
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(CliError::local(format!(
            "the config file {path} can be read by other users (mode {mode:04o}), and it holds \
             an access key: it is ignored. Fix it with `chmod 600 {path}`, and log in again if \
             others may have read the key",
            path = path.display()
        )));
    }
    if metadata.len() > MAX_CONFIG_BYTES {
        return Err(CliError::local(format!(
            "the config file {} is too large to be a config file",
            path.display()
        )));
    }
    let text = Zeroizing::new(fs::read_to_string(path).map_err(|error| {
        CliError::local(format!(
            "cannot read the config file {}: {error}",
            path.display()
        ))
    })?);
    // toml's messages quote the offending line, which may be the key: only say where.
    let parsed: OnDisk = toml::from_str(&text).map_err(|error| {
        let place = error
            .span()
            .map(|span| {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                format!(" (line {line})")
            })
            .unwrap_or_default();
        CliError::local(format!(
            "the config file {} is not valid{place}: expected `server = \"...\"` and \
             `access_key = \"...\"`",
            path.display()
        ))
    })?;
    Ok(Some(Config {
        server: parsed.server,
        access_key: parsed.access_key.map(SecretString::from),
    }))
}

/// Writes the config file with mode 0600 (its directory 0700 when created), replacing any
/// previous one atomically: a temporary file in the same directory, then a rename, so a
/// reader never sees half a file and the key is never in a file others can read.
///
/// # Errors
/// When the directory or file cannot be written.
pub(crate) fn save(path: &Path, config: &Config) -> Result<(), CliError> {
    let io_error = |what: &str, error: std::io::Error| {
        CliError::local(format!(
            "cannot {what} the config file {}: {error}",
            path.display()
        ))
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.exists() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| io_error("create the directory of", e))?;
    }
    let text = Zeroizing::new(
        toml::to_string(&ToDisk {
            server: config.server.as_deref(),
            access_key: config.access_key.as_ref().map(|k| k.expose_secret()),
        })
        .map_err(|_| CliError::local("cannot encode the config file"))?,
    );
    let file_name = path
        .file_name()
        .ok_or_else(|| CliError::local(format!("{} is not a file path", path.display())))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(file_name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = dir.join(temp_name);
    let write = || -> std::io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::rename(&temp, path)
    };
    write().map_err(|error| {
        let _ = fs::remove_file(&temp);
        io_error("write", error)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_config_is_0600_in_a_0700_directory_and_reads_back() {
        let root = tempfile::tempdir().expect("temp dir");
        let path = root.path().join("new").join("config.toml");
        let config = Config {
            server: Some("http://127.0.0.1:1".to_owned()),
            access_key: Some(SecretString::from("vlt_secret")),
        };
        save(&path, &config).expect("saved");
        let mode = |p: &Path| fs::metadata(p).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().expect("dir")), 0o700);
        let back = load(&path).expect("read").expect("present");
        assert_eq!(back.server.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(
            back.access_key.as_ref().map(|k| k.expose_secret()),
            Some("vlt_secret")
        );
        assert!(!format!("{back:?}").contains("vlt_secret"));
    }

    #[test]
    fn a_config_others_can_read_is_refused_with_the_fix() {
        let root = tempfile::tempdir().expect("temp dir");
        let path = root.path().join("config.toml");
        fs::write(&path, "access_key = \"vlt_secret\"\n").expect("written");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
        let error = load(&path).expect_err("refused").to_string();
        assert!(error.contains("chmod 600"), "{error}");
        assert!(error.contains("0640"), "{error}");
        assert!(!error.contains("vlt_secret"), "{error}");
    }

    #[test]
    fn a_broken_config_is_refused_without_quoting_it() {
        let root = tempfile::tempdir().expect("temp dir");
        let path = root.path().join("config.toml");
        fs::write(&path, "access_key = vlt_secret\n").expect("written");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
        let error = load(&path).expect_err("refused").to_string();
        assert!(error.contains("line 1"), "{error}");
        assert!(!error.contains("vlt_secret"), "{error}");
    }
}
