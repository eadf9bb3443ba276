//! `vault-server`: serve (the default), bootstrap an organization, generate a key.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use vault_server::{Settings, telemetry};

#[derive(Parser)]
#[command(version, about = "Credential vault for API gateways")]
struct Cli {
    /// A config file layered over the defaults (environment variables still win).
    #[arg(long, env = "VAULT_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create an organization and print its first admin access key on stdout.
    Bootstrap {
        /// The organization's name.
        #[arg(long)]
        org: String,
    },
    /// Print the configuration reference (every setting, its environment variable and
    /// default) as Markdown.
    ConfigReference,
    /// Print the API's OpenAPI document (what `GET /openapi.json` serves), for client
    /// generators (`make clients`).
    Openapi,
    /// Encryption-key tools.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Access keys, as the operator (database and encryption key, no access key needed).
    AccessKeys {
        #[command(subcommand)]
        command: AccessKeysCommand,
    },
    /// The tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk every audit chain, check every checkpoint's signature, and report the first
    /// break of each chain (a modified, deleted, reordered or moved event, or a cut tail).
    /// Exits non-zero when any chain is broken.
    Verify {
        /// Only this organization's chain (`installation` for the installation's own).
        #[arg(long)]
        org: Option<String>,
        /// A file of checkpoints kept outside the vault (a saved page of
        /// `GET /audit-events/checkpoints`, a list, or one checkpoint): the chains must
        /// reach them. Repeat for several.
        #[arg(long = "from-checkpoint")]
        from_checkpoint: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AccessKeysCommand {
    /// Create an access key in an existing organization (audited) and print it alone on
    /// stdout: the way back for an organization left without a working key.
    Create {
        /// The organization's id.
        #[arg(long)]
        org: String,
        /// The key's name.
        #[arg(long)]
        name: String,
        /// A scope to grant (repeat for several, or separate with commas).
        #[arg(long = "scope", required = true, value_delimiter = ',')]
        scopes: Vec<String>,
        /// When the key stops working (RFC 3339); never, if absent.
        #[arg(long)]
        expires_at: Option<String>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Print a fresh random key for ENCRYPTION_KEY.
    Generate,
    /// Show how many sealed rows each key still protects.
    Status,
    /// Re-wrap every sealed row under the current key-encryption key, online and
    /// resumably (and the keyring under the key manager's current key).
    Rewrap {
        /// Rows per batch.
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
    /// Make a new key-encryption key current, wrapped by the key manager; `keys rewrap`
    /// then moves rows onto it.
    Rotate,
    /// Move onto the configured key manager (VAULT_KEY_MANAGER) from the one before (whose
    /// settings, or ENCRYPTION_KEY, are still given): online, resumable, audited.
    Migrate {
        /// Rows per batch.
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // The whole cause chain, no backtrace: start-up errors are for operators.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::Keys {
        command: KeysCommand::Generate,
    }) = cli.command
    {
        return vault_server::generate_key();
    }
    if let Some(Command::Openapi) = cli.command {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", vault_http::openapi().to_pretty_json()?)?;
        return Ok(());
    }
    if let Some(Command::ConfigReference) = cli.command {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", vault_server::reference::markdown())?;
        return Ok(());
    }
    let settings = Settings::load(cli.config.as_deref())?;
    // Held until `run` returns, so every log line is flushed before the process exits.
    let _log_writer = telemetry::init(settings.log_format, &settings.log_level);
    actix_web::rt::System::new().block_on(async move {
        match cli.command {
            None | Some(Command::Serve) => vault_server::serve(&settings).await,
            Some(Command::Migrate) => vault_server::migrate(&settings).await,
            Some(Command::Bootstrap { org }) => vault_server::bootstrap(&settings, &org).await,
            Some(Command::Keys {
                command: KeysCommand::Status,
            }) => vault_server::keys_status(&settings).await,
            Some(Command::Keys {
                command: KeysCommand::Rewrap { batch },
            }) => vault_server::rewrap(&settings, batch).await,
            Some(Command::Keys {
                command: KeysCommand::Rotate,
            }) => vault_server::key_commands::rotate(&settings).await,
            Some(Command::Keys {
                command: KeysCommand::Migrate { batch },
            }) => vault_server::key_commands::migrate(&settings, batch).await,
            Some(Command::AccessKeys {
                command:
                    AccessKeysCommand::Create {
                        org,
                        name,
                        scopes,
                        expires_at,
                    },
            }) => {
                let key = vault_server::recovery::OperatorKey {
                    organization: org,
                    name,
                    scopes,
                    expires_at,
                };
                vault_server::recovery::create_access_key(&settings, key).await
            }
            Some(Command::Audit {
                command:
                    AuditCommand::Verify {
                        org,
                        from_checkpoint,
                    },
            }) => {
                let request = vault_server::audit::commands::VerifyRequest {
                    organization: org,
                    from_checkpoints: from_checkpoint,
                };
                vault_server::audit::commands::verify(&settings, request).await
            }
            Some(
                Command::Keys {
                    command: KeysCommand::Generate,
                }
                | Command::ConfigReference
                | Command::Openapi,
            ) => Ok(()),
        }
    })
}
