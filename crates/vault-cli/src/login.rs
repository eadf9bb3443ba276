//! `vault login` and `vault logout`.

use std::io::Read as _;

use reqwest::Method;
use secrecy::{ExposeSecret as _, SecretString};
use zeroize::Zeroizing;

use crate::api::{Api, display_server, is_cleartext_remote};
use crate::config::{self, Config};
use crate::context::Options;
use crate::error::CliError;
use crate::secrets;

/// Reads an access key, checks it with the server, and saves it with the server's URL.
/// Nothing is saved unless the server accepted the key.
pub(crate) async fn login(options: &Options, key_stdin: bool) -> Result<(), CliError> {
    // A login again without --server keeps the saved server.
    let saved = match options.server {
        Some(_) => None,
        None => Some(options.saved()?),
    };
    let server = options.server(saved.as_ref())?;
    let shown = display_server(&server);
    if is_cleartext_remote(&server) {
        eprintln!(
            "warning: {shown} is plain http: the access key crosses the network unencrypted \
             on every request; use https:// for anything but this machine"
        );
    }
    let key = if key_stdin {
        read_key_from_stdin()?
    } else {
        secrets::prompt(
            "access key",
            "pipe it with --key-stdin (e.g. `vault login --key-stdin < key-file`)",
        )?
    };
    if key.expose_secret().chars().any(char::is_whitespace) {
        return Err(CliError::usage(
            "that is not an access key: it contains spaces or line breaks",
        ));
    }
    let api = Api::new(server.clone(), key.clone())?;
    // Any authenticated request proves the key; one credential at most is read. A 403
    // (the key lacks credentials:read) still proves the key is valid.
    match api
        .call(
            Method::GET,
            &["credentials"],
            &[("limit", "1".to_owned())],
            None,
            None,
        )
        .await
    {
        Ok(_) => {}
        Err(CliError::Refused(problem)) if problem.status == 403 => {}
        Err(CliError::Refused(mut problem)) => {
            problem.hint = Some(if problem.status == 401 {
                "the server refused this access key; nothing was saved".to_owned()
            } else {
                "nothing was saved".to_owned()
            });
            return Err(CliError::Refused(problem));
        }
        Err(other) => return Err(other),
    }
    let path = options.config_path()?;
    config::save(
        &path,
        &Config {
            server: Some(shown.clone()),
            access_key: Some(key),
        },
    )?;
    eprintln!(
        "Logged in to {shown}. The access key is saved in {} (mode 0600).",
        path.display()
    );
    Ok(())
}

fn read_key_from_stdin() -> Result<SecretString, CliError> {
    let mut text = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .take(64 * 1024)
        .read_to_string(&mut text)
        .map_err(|error| CliError::local(format!("cannot read stdin: {error}")))?;
    let key = text.trim();
    if key.is_empty() {
        return Err(CliError::usage("no access key on stdin"));
    }
    Ok(SecretString::from(key.to_owned()))
}

/// Forgets the login: the config file goes, with the access key and the server's URL (a
/// later `vault login --server URL` names the server again).
pub(crate) fn logout(options: &Options) -> Result<(), CliError> {
    let path = &options.config_path()?;
    // Whatever the file holds (readable or not, too open or broken), it goes whole.
    match std::fs::remove_file(path) {
        Ok(()) => {
            eprintln!(
                "Logged out: {} is removed (the access key and the server's URL).",
                path.display()
            );
            Ok(())
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("Not logged in (no config file at {}).", path.display());
            Ok(())
        }
        Err(error) => Err(CliError::local(format!(
            "cannot remove {}: {error}",
            path.display()
        ))),
    }
}
