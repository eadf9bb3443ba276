//! `vault`, the command-line client of the vault's REST API.
//!
//! An HTTP client of the REST contract. Of the server's code it shares only the credential
//! types' descriptions (`vault_core::credential_types`, which the API also serves), so its
//! flags are made from the same description as the API's; no adapter. Secrets are read from a no-echo prompt, a file or stdin,
//! never from the command line, and never printed; the access key saved by `vault login`
//! lives in a config file with mode 0600. HashiCorp Vault's `VAULT_ADDR` and `VAULT_TOKEN`
//! are never read: sending a HashiCorp token to this server would leak it.

mod access_keys;
mod api;
mod audit;
mod bundles;
mod cli;
mod config;
mod context;
mod credentials;
mod error;
mod grants;
mod login;
mod output;
mod secrets;
mod type_flags;
mod webhooks;

pub use cli::Cli;
pub use error::{CliError, Problem, exit};

use cli::Command;

/// Runs one command line.
///
/// # Errors
/// Any failure, with its exit code ([`CliError::exit_code`]); stderr gets its
/// `Display`.
pub fn run(cli: Cli) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| CliError::local(format!("cannot start: {error}")))?;
    runtime.block_on(async move {
        let options = context::Options::from_cli(&cli);
        match cli.command {
            Command::Login { key_stdin } => login::login(&options, key_stdin).await,
            Command::Logout => login::logout(&options),
            Command::Credentials(command) => {
                credentials::run(&options.connect()?, command, cli.json).await
            }
            Command::AccessKeys(command) => {
                access_keys::run(&options.connect()?, command, cli.json).await
            }
            Command::Grants(command) => grants::run(&options.connect()?, command, cli.json).await,
            Command::Audit(command) => audit::run(&options.connect()?, command, cli.json).await,
            Command::Webhooks(command) => {
                webhooks::run(&options.connect()?, command, cli.json).await
            }
            Command::Export(args) => bundles::export(&options.connect()?, args, cli.json).await,
            Command::Import(args) => bundles::import(&options.connect()?, args, cli.json).await,
        }
    })
}
