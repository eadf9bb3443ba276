//! Which server, which key, which config file.

use std::path::PathBuf;

use reqwest::Url;
use secrecy::{ExposeSecret as _, SecretString};

use crate::api::{Api, display_server, parse_server};
use crate::cli::Cli;
use crate::config::{self, Config};
use crate::error::CliError;

/// The access key for scripts and CI, where no one logs in. An environment variable, not a
/// flag: argv is visible to every user of the machine. (Never `VAULT_TOKEN`: that is
/// HashiCorp Vault's, and sending it here would leak it.)
pub(crate) const ACCESS_KEY_ENV: &str = "VAULT_CLI_ACCESS_KEY";

/// The global options, resolved.
#[derive(Debug)]
pub(crate) struct Options {
    /// `--server` or `VAULT_CLI_SERVER`.
    pub(crate) server: Option<String>,
    /// `--config` or `VAULT_CLI_CONFIG`; else the default location, found when needed
    /// (scripts with `VAULT_CLI_SERVER` and `VAULT_CLI_ACCESS_KEY` may have no HOME).
    config: Option<PathBuf>,
}

impl Options {
    pub(crate) fn from_cli(cli: &Cli) -> Self {
        Self {
            server: cli.server.clone().filter(|s| !s.trim().is_empty()),
            config: cli.config.clone(),
        }
    }

    /// The config file's path.
    pub(crate) fn config_path(&self) -> Result<PathBuf, CliError> {
        match &self.config {
            Some(path) => Ok(path.clone()),
            None => config::default_path(),
        }
    }

    /// The saved config (refused when others can read it), or an empty one.
    pub(crate) fn saved(&self) -> Result<Config, CliError> {
        Ok(config::load(&self.config_path()?)?.unwrap_or_default())
    }

    /// The server to talk to: the flag or environment, else the saved one.
    pub(crate) fn server(&self, saved: Option<&Config>) -> Result<Url, CliError> {
        let raw = self
            .server
            .clone()
            .or_else(|| saved.and_then(|c| c.server.clone()));
        match raw {
            Some(raw) => parse_server(&raw),
            None => Err(CliError::usage(
                "no server: run `vault login --server URL`, or pass --server URL (or set \
                 VAULT_CLI_SERVER)",
            )),
        }
    }

    /// A client for the server with the access key: `VAULT_CLI_ACCESS_KEY` if set, else
    /// the saved key, which is only ever sent to the server it was saved for.
    pub(crate) fn connect(&self) -> Result<Api, CliError> {
        let from_env = std::env::var(ACCESS_KEY_ENV)
            .ok()
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty())
            .map(SecretString::from);
        // The config file is only read when needed, so scripts that give both the server
        // and the key do not depend on it.
        let saved = match (&self.server, &from_env) {
            (Some(_), Some(_)) => None,
            _ => Some(self.saved()?),
        };
        let server = self.server(saved.as_ref())?;
        let key = match (from_env, saved) {
            (Some(key), _) => key,
            (
                None,
                Some(Config {
                    server: Some(saved_server),
                    access_key: Some(key),
                }),
            ) => {
                let saved_url = parse_server(&saved_server)?;
                if saved_url != server {
                    // A key is only good for its own server; sending it to another would
                    // hand it over.
                    return Err(CliError::usage(format!(
                        "the saved access key is for {}, not {}: run `vault login --server \
                         {}`, or set {ACCESS_KEY_ENV}",
                        display_server(&saved_url),
                        display_server(&server),
                        display_server(&server),
                    )));
                }
                key
            }
            (None, _) => {
                return Err(CliError::usage(format!(
                    "not logged in: run `vault login --server {}`, or set {ACCESS_KEY_ENV}",
                    display_server(&server)
                )));
            }
        };
        if key.expose_secret().is_empty() {
            return Err(CliError::usage("the access key is empty"));
        }
        Api::new(server, key)
    }
}
