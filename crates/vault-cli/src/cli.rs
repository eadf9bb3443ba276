//! The command line. No flag ever takes a secret value: secrets come from a prompt, a file
//! or stdin (see `secrets`).

use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser as _};
use clap::{Args, Parser, Subcommand};
use vault_core::CredentialType;
use vault_core::webhooks::EventType;

use crate::type_flags::TypeFlags;

/// Command-line client for the vault's REST API.
///
/// Log in once with `vault login --server URL` (the access key is read from a prompt or
/// stdin and saved in a 0600 config file), then manage credentials and access keys, and
/// move credentials between organizations or installations with `vault export` and
/// `vault import`. VAULT_ADDR and VAULT_TOKEN (HashiCorp Vault's) are never read.
#[derive(Debug, Parser)]
#[command(name = "vault", version, max_term_width = 100)]
pub struct Cli {
    /// The server's base URL [default: the one saved by `vault login`].
    #[arg(long, env = "VAULT_CLI_SERVER", global = true, value_name = "URL")]
    pub(crate) server: Option<String>,
    /// The config file [default: $XDG_CONFIG_HOME/vault/config.toml or
    /// ~/.config/vault/config.toml].
    #[arg(long, env = "VAULT_CLI_CONFIG", global = true, value_name = "PATH")]
    pub(crate) config: Option<PathBuf>,
    /// Print the server's JSON instead of a table.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check an access key against the server and save it with the server's URL.
    ///
    /// The key is read from a no-echo prompt, or from stdin with --key-stdin.
    Login {
        /// Read the access key from stdin instead of a prompt.
        #[arg(long)]
        key_stdin: bool,
    },
    /// Forget the login: remove the config file (the access key and the server URL).
    Logout,
    /// Create, list, show, update and delete credentials.
    #[command(subcommand, visible_alias = "creds")]
    Credentials(CredentialsCommand),
    /// Create, list and revoke access keys.
    #[command(subcommand)]
    AccessKeys(AccessKeysCommand),
    /// Add, list and revoke grants: which access keys, subjects and groups may use a
    /// credential, for which requests, and how often.
    #[command(subcommand)]
    Grants(GrantsCommand),
    /// Read the organization's audit log: list it, follow it as it grows, and save its
    /// signed checkpoints (needs audit:read).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Subscribe https endpoints to the vault's events (a credential or access key about to
    /// expire, an upstream refusing a credential, an OAuth2 connection lost, a key
    /// rotation), and see what was delivered (needs webhooks:manage).
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// Export every credential of the organization, secret values included, to an age file
    /// sealed to a passphrase or to age public keys (needs credentials:export).
    ///
    /// The vault seals the file: no secret value crosses the network or lands on disk in
    /// the clear. The passphrase (at least 12 characters) is read from a no-echo prompt,
    /// twice, or from --passphrase-file / --passphrase-stdin; with --recipient none is
    /// read. Any age implementation opens the file; `vault import` takes it into another
    /// organization or installation. With --json, prints {"credentials": N, "path": FILE}.
    Export(ExportArgs),
    /// Import a bundle made by `vault export` (needs credentials:write).
    ///
    /// A bundle sealed to a passphrase asks for it (a no-echo prompt, or --passphrase-file /
    /// --passphrase-stdin); one sealed to public keys needs --identity. A wrong passphrase
    /// or one invalid credential imports nothing; a credential already here is left as it
    /// is, so importing a bundle again changes nothing. Prints what became of each
    /// credential (with --json, the server's answer).
    Import(ImportArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum CredentialsCommand {
    /// Create a credential. Its secret values are read from a no-echo prompt, or from
    /// --secret-file / --secret-stdin; never from the command line.
    ///
    /// The secrets are the fields the type's description marks secret (`GET
    /// /credential-types`): `value` (api_key, bearer_token), `password` (basic_auth),
    /// `clientSecret` (oauth2), `secret` (jwt HS*) or `privateKey` (other jwt, PEM: file
    /// or stdin only), and for custom the headers: a prompt per --header NAME, or a JSON
    /// object {"Header-Name": "value", ...} from the file or stdin.
    Create(CreateArgs),
    /// List credentials, oldest first (the order they were made in).
    List(ListArgs),
    /// Show one credential (never a secret: the server never returns one).
    Get {
        /// The credential's id.
        id: String,
    },
    /// Change a credential; fields not given are kept.
    Update(UpdateArgs),
    /// Start connecting an oauth2 credential with the authorization_code grant: prints
    /// the provider's authorization URL to open in a browser (single use, 10 minutes).
    Connect {
        /// The credential's id.
        id: String,
    },
    /// Delete a credential (asks for confirmation unless --yes).
    Delete {
        /// The credential's id.
        id: String,
        /// Do not ask for confirmation (required when stdin is not a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AccessKeysCommand {
    /// Issue an access key. It is printed once, on stdout: store it right away.
    Create {
        /// A name saying who or what uses the key.
        #[arg(long)]
        name: String,
        /// A scope the key grants (repeat): credentials:read, credentials:write,
        /// credentials:route, credentials:use, credentials:use-all, credentials:export,
        /// access-keys:manage, audit:read, keys:read, webhooks:manage.
        #[arg(long = "scope", value_name = "SCOPE", required = true)]
        scopes: Vec<String>,
        /// When the key stops working (RFC 3339, e.g. 2027-01-31T00:00:00Z).
        #[arg(long, value_name = "RFC3339")]
        expires_at: Option<String>,
    },
    /// List access keys (never their secrets).
    List(PageArgs),
    /// Revoke an access key: it stops working at once. Only a key no stronger than
    /// yours can be revoked.
    Revoke {
        /// The access key's id (not the key itself).
        id: String,
        /// Also revoke every key it created, and the keys those created, and so on.
        #[arg(long)]
        cascade: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum GrantsCommand {
    /// List grants: a credential's, a principal's (--principal), or, given neither, your
    /// own. A key with credentials:use-all uses every credential without a grant.
    List {
        /// The credential whose grants to list (needs credentials:read, or a manage
        /// grant of it).
        #[arg(value_name = "CREDENTIAL_ID", conflicts_with = "principal")]
        credential: Option<String>,
        /// Whose grants to list, of every credential: key:<access key id>,
        /// subject:<sub> or group:<name> (another's need credentials:read).
        #[arg(long, value_name = "PRINCIPAL")]
        principal: Option<String>,
    },
    /// Grant a principal the use of a credential. Prints the grant's id on stdout (the
    /// details on stderr), or with --json the whole grant.
    Add(GrantArgs),
    /// Revoke a grant: it stops working at once, its budget counters with it.
    Revoke {
        /// The credential's id.
        #[arg(value_name = "CREDENTIAL_ID")]
        credential: String,
        /// The grant's id.
        #[arg(value_name = "GRANT_ID")]
        grant: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// List audit events, newest first (one page unless --all).
    ///
    /// A table of time, chain sequence, action, outcome, reason, target and actor; with
    /// --json, the server's page.
    List(AuditListArgs),
    /// Follow the audit log as `tail -f` does.
    ///
    /// Prints the newest events, then each new one as it is written, oldest first, one
    /// line each (with --json: one JSON object per line). Runs until interrupted, or until
    /// --count events are printed.
    Tail(TailArgs),
    /// Save the audit chain's signed checkpoints, to keep a copy outside the vault.
    ///
    /// Every checkpoint, with the public key that checks them, as one JSON document: later,
    /// `vault-server audit verify --from-checkpoint FILE` proves against it that no event
    /// was removed.
    Checkpoints {
        /// Write the document to this file instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub(crate) struct AuditListArgs {
    /// Only events of this action (credential.use, access_key.create, ...).
    #[arg(long, value_name = "ACTION")]
    pub(crate) action: Option<String>,
    /// Only events about this credential, access key or grant id.
    #[arg(long, value_name = "ID")]
    pub(crate) target: Option<String>,
    #[command(flatten)]
    pub(crate) page: PageArgs,
}

#[derive(Debug, Args)]
pub(crate) struct TailArgs {
    /// How long to wait between two looks for new events, in milliseconds (100 to
    /// 3600000).
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 1000,
        value_parser = clap::value_parser!(u64).range(100..=3_600_000)
    )]
    pub(crate) interval_ms: u64,
    /// Only events of this action (credential.use, access_key.create, ...).
    #[arg(long, value_name = "ACTION")]
    pub(crate) action: Option<String>,
    /// How many of the newest events to print first (0 to 100).
    #[arg(
        long,
        short = 'n',
        value_name = "N",
        default_value_t = 10,
        value_parser = clap::value_parser!(u32).range(0..=100)
    )]
    pub(crate) lines: u32,
    /// Stop after printing this many events in all [default: run until interrupted].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) count: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum WebhooksCommand {
    /// Subscribe an https URL to events. Prints the signing secret (`whsec_...`) once,
    /// alone on stdout, the details on stderr: store it right away.
    ///
    /// Each event is POSTed to the URL as JSON, signed per Standard Webhooks with the
    /// secret: verify deliveries with any Standard Webhooks library.
    Create(WebhookCreateArgs),
    /// List the organization's subscriptions (never their secrets).
    List,
    /// Show one subscription (never its secret).
    #[command(visible_alias = "get")]
    Show {
        /// The subscription's id.
        id: String,
    },
    /// Change a subscription; what is not given is kept, the secret too (see
    /// rotate-secret).
    Update(WebhookUpdateArgs),
    /// Delete a subscription and its deliveries: nothing more is sent to it.
    Delete {
        /// The subscription's id.
        id: String,
    },
    /// Replace the signing secret. Prints the new one once, alone on stdout: store it right
    /// away. The old one stops signing at once, retries included.
    RotateSecret {
        /// The subscription's id.
        id: String,
    },
    /// List a subscription's deliveries, newest first (one page unless --all).
    ///
    /// A table of id, event type, status (pending, succeeded, failed), attempts, the
    /// receiver's last HTTP status, when it was made and the last error; with --json, the
    /// server's page, payloads included.
    Deliveries {
        /// The subscription's id.
        id: String,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Send a delivery again: a new delivery of the same message (same webhook-id header),
    /// due now. Prints the new delivery's id on stdout (the details on stderr).
    Replay {
        /// The subscription's id.
        id: String,
        /// The delivery's id (from `vault webhooks deliveries`).
        #[arg(value_name = "DELIVERY_ID")]
        delivery: String,
    },
}

/// `--event`: the event types, as the API names them.
fn event_type() -> PossibleValuesParser {
    PossibleValuesParser::new(EventType::ALL.map(EventType::as_str))
}

/// `vault webhooks create`. The server checks the values (and names the field it refuses).
#[derive(Debug, Args)]
pub(crate) struct WebhookCreateArgs {
    /// Where events are POSTed: an absolute https URL.
    #[arg(long)]
    pub(crate) url: String,
    /// An event type to deliver (repeat).
    #[arg(long = "event", value_name = "TYPE", required = true, value_parser = event_type())]
    pub(crate) events: Vec<String>,
    /// How many days before an expiry the *.expiring reminders come (repeat; 1 to 365, at
    /// most 5) [default: 30, 7 and 1].
    #[arg(long = "days-ahead", value_name = "DAYS")]
    pub(crate) days_ahead: Vec<u16>,
    /// What it is for (up to 500 characters).
    #[arg(long)]
    pub(crate) description: Option<String>,
    /// Create it disabled: nothing is sent, and no event is queued for it, until `update
    /// --enable`.
    #[arg(long)]
    pub(crate) disabled: bool,
}

/// `vault webhooks update`: only what is given is sent.
#[derive(Debug, Args)]
pub(crate) struct WebhookUpdateArgs {
    /// The subscription's id.
    pub(crate) id: String,
    /// A new URL (https).
    #[arg(long)]
    pub(crate) url: Option<String>,
    /// An event type to deliver (repeat; replaces the list).
    #[arg(long = "event", value_name = "TYPE", value_parser = event_type())]
    pub(crate) events: Vec<String>,
    /// Days before an expiry for the *.expiring reminders (repeat; replaces the list).
    #[arg(long = "days-ahead", value_name = "DAYS")]
    pub(crate) days_ahead: Vec<u16>,
    /// A new description.
    #[arg(long)]
    pub(crate) description: Option<String>,
    /// Remove the description.
    #[arg(long, conflicts_with = "description")]
    pub(crate) no_description: bool,
    /// Enable it: deliveries held back go out, and new events are delivered.
    #[arg(long, conflicts_with = "disable")]
    pub(crate) enable: bool,
    /// Disable it: deliveries already queued wait, and events that happen meanwhile are
    /// not delivered to it, until --enable.
    #[arg(long)]
    pub(crate) disable: bool,
}

/// `vault grants add`. The server checks every value (and names the field it refuses), so
/// the client sends them as given: one rule, in one place.
#[derive(Debug, Args)]
pub(crate) struct GrantArgs {
    /// The credential's id.
    #[arg(value_name = "CREDENTIAL_ID")]
    pub(crate) credential: String,
    /// Who may use it: key:<access key id>, subject:<sub> (an identity-provider token's
    /// subject) or group:<name> (a group its token names).
    #[arg(long, value_name = "PRINCIPAL")]
    pub(crate) principal: String,
    /// use: use the credential; manage: use it, and grant others its use within this
    /// grant [default: use].
    #[arg(long, value_parser = ["use", "manage"])]
    pub(crate) permission: Option<String>,
    /// Only this HTTP method, in upper case (repeat) [default: every method].
    #[arg(long = "method", value_name = "METHOD")]
    pub(crate) methods: Vec<String>,
    /// Only this path: exact, or a prefix ending in * (repeat; quote it from the shell:
    /// '/v1/charges*') [default: every path].
    #[arg(long = "path", value_name = "PATTERN")]
    pub(crate) paths: Vec<String>,
    /// At most this many uses a minute (1 to 1000000000).
    #[arg(long, value_name = "N", help_heading = "Budget")]
    pub(crate) per_minute: Option<u64>,
    /// At most this many uses an hour.
    #[arg(long, value_name = "N", help_heading = "Budget")]
    pub(crate) per_hour: Option<u64>,
    /// At most this many uses a day.
    #[arg(long, value_name = "N", help_heading = "Budget")]
    pub(crate) per_day: Option<u64>,
    /// At most this many uses in the grant's life (never refilled).
    #[arg(long, value_name = "N", help_heading = "Budget")]
    pub(crate) total: Option<u64>,
    /// When the grant ends (RFC 3339, e.g. 2027-01-31T00:00:00Z) [default: when your own
    /// key or token does].
    #[arg(long, value_name = "RFC3339")]
    pub(crate) expires_at: Option<String>,
}

/// `vault export`.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// Write the bundle to this file, created with mode 0600 (`-`: stdout, unless it is a
    /// terminal).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// The organization to export: only your access key's own is taken [default: your
    /// access key's].
    #[arg(long, value_name = "ORG_ID")]
    pub(crate) org: Option<String>,
    /// Also export the earlier versions the vault keeps of each credential's secret values.
    #[arg(long)]
    pub(crate) versions: bool,
    /// Seal the bundle to this age public key (age1..., repeat; at most 16) instead of a
    /// passphrase: whoever holds one of their secret keys opens it.
    #[arg(
        long = "recipient",
        value_name = "AGE_PUBLIC_KEY",
        conflicts_with_all = ["passphrase_file", "passphrase_stdin"]
    )]
    pub(crate) recipients: Vec<String>,
    #[command(flatten)]
    pub(crate) passphrase: PassphraseArgs,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub(crate) force: bool,
}

/// `vault import`.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The bundle: an age file made by `vault export` (at most 32 MiB).
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// keep: the bundle's ids (moving to another installation); new: ids derived from
    /// this organization and each exported one (copying within one installation).
    #[arg(long, value_parser = ["keep", "new"], default_value = "keep")]
    pub(crate) ids: String,
    /// For a bundle sealed to public keys: an age identity file (as age-keygen writes it)
    /// holding one of their secret keys.
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with_all = ["passphrase_file", "passphrase_stdin"]
    )]
    pub(crate) identity: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) passphrase: PassphraseArgs,
}

/// Where a bundle's passphrase comes from; a no-echo prompt when neither is given.
#[derive(Debug, Args)]
pub(crate) struct PassphraseArgs {
    /// Read the passphrase from this file (its trailing line break dropped).
    #[arg(long, value_name = "PATH", conflicts_with = "passphrase_stdin")]
    pub(crate) passphrase_file: Option<PathBuf>,
    /// Read the passphrase from stdin (its trailing line break dropped).
    #[arg(long)]
    pub(crate) passphrase_stdin: bool,
}

/// `--type`: the credential types, as the API names them (`api-key` for `api_key` too).
fn credential_type() -> impl clap::builder::TypedValueParser<Value = CredentialType> {
    let names = CredentialType::ALL.iter().map(|kind| {
        let name = kind.as_str();
        let alias = name.replace('_', "-");
        let value = PossibleValue::new(name);
        if alias == name {
            value
        } else {
            value.alias(alias)
        }
    });
    PossibleValuesParser::new(names).map(|raw| {
        raw.replace('-', "_")
            .parse::<CredentialType>()
            .unwrap_or_else(|_| unreachable!("a possible value names a type"))
    })
}

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// The credential's type.
    #[arg(long = "type", value_name = "TYPE", value_parser = credential_type())]
    pub(crate) kind: CredentialType,
    /// A name (1-200 characters).
    #[arg(long)]
    pub(crate) name: String,
    #[command(flatten)]
    pub(crate) fields: PublicFields,
    #[command(flatten)]
    pub(crate) secret: SecretArgs,
}

#[derive(Debug, Args)]
pub(crate) struct UpdateArgs {
    /// The credential's id.
    pub(crate) id: String,
    /// A new name.
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Remove the description.
    #[arg(long, conflicts_with = "description")]
    pub(crate) no_description: bool,
    /// Remove the expiry.
    #[arg(long, conflicts_with = "expires_at")]
    pub(crate) no_expiry: bool,
    /// Allow no destination at all (clears the allowed hosts).
    #[arg(long, conflicts_with = "allowed_hosts")]
    pub(crate) no_allowed_hosts: bool,
    /// Trust the system's roots again (clears the CA bundle).
    #[arg(long, conflicts_with = "ca_bundle")]
    pub(crate) no_ca_bundle: bool,
    #[command(flatten)]
    pub(crate) fields: PublicFields,
    /// Read new secret values (as `create` does) and replace the current ones: a new
    /// version. Implied by --secret-file and --secret-stdin.
    #[arg(long)]
    pub(crate) rotate_secret: bool,
    #[command(flatten)]
    pub(crate) secret: SecretArgs,
}

/// Where secret values come from; a no-echo prompt when neither is given.
#[derive(Debug, Args)]
pub(crate) struct SecretArgs {
    /// Read the secret from this file (custom: a JSON object of header names to values).
    #[arg(long, value_name = "PATH", conflicts_with = "secret_stdin")]
    pub(crate) secret_file: Option<PathBuf>,
    /// Read the secret from stdin (custom: a JSON object of header names to values).
    #[arg(long)]
    pub(crate) secret_stdin: bool,
}

/// The public fields, as flags (each applies to the types its heading names).
#[derive(Debug, Args)]
pub(crate) struct PublicFields {
    /// A description (up to 2000 characters).
    #[arg(long)]
    pub(crate) description: Option<String>,
    /// When the credential expires (RFC 3339, e.g. 2027-01-31T00:00:00Z).
    #[arg(long, value_name = "RFC3339")]
    pub(crate) expires_at: Option<String>,
    /// Where the credential may be sent: host, host:port, https://host[:port] or
    /// http://host:port (repeat; replaces the list on update).
    #[arg(long = "allowed-host", value_name = "HOST")]
    pub(crate) allowed_hosts: Vec<String>,
    /// A PEM file of CA certificates the upstream's TLS certificate must chain to (a
    /// private PKI), instead of the system's roots.
    #[arg(long, value_name = "PATH")]
    pub(crate) ca_bundle: Option<PathBuf>,

    /// The `iss` claim.
    #[arg(long, help_heading = "jwt")]
    pub(crate) issuer: Option<String>,
    /// The `sub` claim.
    #[arg(long, help_heading = "jwt")]
    pub(crate) subject: Option<String>,

    /// The type-specific fields, from the types' descriptions.
    #[command(flatten)]
    pub(crate) typed: TypeFlags,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only credentials of this type.
    #[arg(long = "type", value_name = "TYPE", value_parser = credential_type())]
    pub(crate) kind: Option<CredentialType>,
    /// Only credentials expiring within this ISO 8601 duration, e.g. P30D or PT12H.
    #[arg(long, value_name = "DURATION")]
    pub(crate) expiring_within: Option<String>,
    #[command(flatten)]
    pub(crate) page: PageArgs,
}

#[derive(Debug, Args)]
pub(crate) struct PageArgs {
    /// At most this many per page (1-100).
    #[arg(long)]
    pub(crate) limit: Option<u32>,
    /// Start at this cursor (from a previous page).
    #[arg(long, conflicts_with = "all")]
    pub(crate) cursor: Option<String>,
    /// Follow the cursors to the end.
    #[arg(long)]
    pub(crate) all: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_flag_takes_a_secret() {
        // Secret fields of the API; none may be a flag.
        let mut secret_flags: Vec<String> = ["key", "access-key", "token", "passphrase"]
            .map(str::to_owned)
            .to_vec();
        let secret_fields = vault_core::credential_types::SPECS
            .iter()
            .flat_map(|spec| spec.fields)
            .filter(|field| field.is_secret());
        secret_flags.extend(secret_fields.map(|field| crate::type_flags::kebab(field.name)));
        assert!(secret_flags.iter().any(|f| f == "client-secret"));
        fn walk(cmd: &clap::Command, found: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                if let Some(long) = arg.get_long() {
                    found.push(long.to_owned());
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, found);
            }
        }
        let mut flags = Vec::new();
        walk(&Cli::command(), &mut flags);
        for flag in &flags {
            assert!(!secret_flags.contains(flag), "--{flag} takes a secret");
        }
        assert!(flags.iter().any(|f| f == "secret-stdin"));
        assert!(flags.iter().any(|f| f == "passphrase-stdin"));
    }
}
