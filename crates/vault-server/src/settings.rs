//! Configuration: `config/default.toml` (compiled in as the defaults), then an optional
//! config file, then environment variables (`VAULT_<KEY>`, plus `ENCRYPTION_KEY`,
//! `ENCRYPTION_KEYS_PREVIOUS` and `DATABASE_URL` by their plain names).

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The defaults, from the file newcomers read.
pub(crate) const DEFAULTS: &str = include_str!("../../../config/default.toml");

/// Every key of [`Settings`], as `VAULT_<KEY>` sets it.
const SETTING_KEYS: [&str; 34] = [
    "auth_cache_ttl_ms",
    "bind",
    "public_url",
    "database_url",
    "database_max_connections",
    "database_acquire_timeout_ms",
    "migrate_on_start",
    "encryption_key",
    "encryption_keys_previous",
    "workers",
    "log_format",
    "log_level",
    "max_body_bytes",
    "max_proxy_body_bytes",
    "http_header_timeout_ms",
    "http_body_timeout_ms",
    "http_keep_alive_seconds",
    "rate_limit_per_second",
    "rate_limit_burst",
    "shutdown_timeout_seconds",
    "dev_mode",
    "dev_organization",
    "proxy_allow_private_networks",
    "proxy_ca_file",
    "proxy_connect_timeout_ms",
    "proxy_timeout_ms",
    "proxy_max_response_bytes",
    "proxy_max_in_flight",
    "proxy_max_in_flight_per_key",
    "credential_versions_kept",
    "request_log_retention_days",
    "audit_retention_days",
    "log_prune_interval_seconds",
    "audit_checkpoint_interval_seconds",
];

/// The identity-provider settings (`VAULT_IDP_*`), kept apart from [`SETTING_KEYS`] so
/// that they read as one feature. Identity-provider tokens are accepted when
/// `idp_issuer` is set.
const IDP_SETTING_KEYS: [&str; 10] = [
    "idp_issuer",
    "idp_audience",
    "idp_leeway_seconds",
    "idp_hs256_secrets",
    "idp_public_key_files",
    "idp_jwks_file",
    "idp_organization_claim",
    "idp_subject_claim",
    "idp_scopes_claim",
    "idp_groups_claim",
];

/// The limit on failed authentications per source address, and how a source is found
/// behind reverse proxies, kept apart from [`SETTING_KEYS`] so that they read as one
/// feature.
const SOURCE_SETTING_KEYS: [&str; 4] = [
    "auth_failure_limit_per_minute",
    "auth_failure_limit_burst",
    "trusted_proxies",
    "forwarded_header",
];

/// The audit sinks' settings (`VAULT_AUDIT_SINK_*`), kept apart from [`SETTING_KEYS`] so
/// that they read as one feature: a sink streams when its destination is set.
const AUDIT_SINK_SETTING_KEYS: [&str; 8] = [
    "audit_sink_file",
    "audit_sink_file_max_bytes",
    "audit_sink_file_keep",
    "audit_sink_syslog",
    "audit_sink_syslog_facility",
    "audit_sink_https",
    "audit_sink_https_header",
    "audit_sink_interval_ms",
];

/// The webhooks' settings (`VAULT_WEBHOOK_*`): how often deliveries are sent and
/// reminders computed.
const WEBHOOK_SETTING_KEYS: [&str; 3] = [
    "webhook_send_interval_ms",
    "webhook_reminder_interval_seconds",
    "webhook_delivery_retention_days",
];

/// The key manager's settings, kept apart from [`SETTING_KEYS`] so that they read as one
/// feature (`crate::keyring::managers` builds the key manager from them).
const KEY_MANAGER_SETTING_KEYS: [&str; 23] = [
    "key_manager",
    "key_manager_timeout_ms",
    "keyring_refresh_interval_ms",
    "transit_address",
    "transit_mount",
    "transit_key",
    "transit_token",
    "transit_token_file",
    "transit_approle_mount",
    "transit_approle_role_id",
    "transit_approle_secret_id",
    "transit_approle_secret_id_file",
    "transit_namespace",
    "transit_ca_file",
    "awskms_region",
    "awskms_key_id",
    "awskms_endpoint",
    "pkcs11_module",
    "pkcs11_slot",
    "pkcs11_token_label",
    "pkcs11_key_label",
    "pkcs11_pin",
    "pkcs11_pin_file",
];

/// Settings also read from the environment under their plain names, as most tools
/// name them.
pub(crate) const PLAIN_ENV_KEYS: [&str; 3] =
    ["encryption_key", "encryption_keys_previous", "database_url"];

/// Settings that hold key material (or a password), taken from the environment as the
/// exact text given. figment would otherwise read a hex key made only of digits as a
/// number: a valid key refused, with the number in the error message.
const RAW_STRING_KEYS: [&str; 9] = [
    "encryption_key",
    "encryption_keys_previous",
    "idp_hs256_secrets",
    "database_url",
    "transit_token",
    "transit_approle_secret_id",
    "transit_approle_role_id",
    "pkcs11_pin",
    "audit_sink_https_header",
];

/// The variables `env` selects, as strings, never parsed.
fn raw_strings(env: &Env) -> Serialized<figment::value::Dict> {
    Serialized::defaults(
        env.iter()
            .map(|(key, value)| (key.as_str().to_owned(), figment::value::Value::from(value)))
            .collect(),
    )
}

/// Deserializes a secret setting from a string only. Anything else (an unquoted number in
/// a config file, a list) is refused with a message that does not contain the value.
fn secret_text<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SecretString>, D::Error> {
    use serde::de::{Error, MapAccess, SeqAccess, Visitor};

    const NOT_TEXT: &str = "must be a string (quote it in a config file); the value is not shown";

    struct Text;

    impl<'de> Visitor<'de> for Text {
        type Value = Option<SecretString>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(SecretString::from(v.to_owned())))
        }
        fn visit_string<E: Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(SecretString::from(v)))
        }
        fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        // Every other type: refused without the value (serde's own message would show it).
        fn visit_bool<E: Error>(self, _: bool) -> Result<Self::Value, E> {
            Err(E::custom(NOT_TEXT))
        }
        fn visit_i64<E: Error>(self, _: i64) -> Result<Self::Value, E> {
            Err(E::custom(NOT_TEXT))
        }
        fn visit_u64<E: Error>(self, _: u64) -> Result<Self::Value, E> {
            Err(E::custom(NOT_TEXT))
        }
        fn visit_i128<E: Error>(self, _: i128) -> Result<Self::Value, E> {
            Err(E::custom(NOT_TEXT))
        }
        fn visit_u128<E: Error>(self, _: u128) -> Result<Self::Value, E> {
            Err(E::custom(NOT_TEXT))
        }
        fn visit_f64<E: Error>(self, _: f64) -> Result<Self::Value, E> {
            Err(E::custom(NOT_TEXT))
        }
        fn visit_char<E: Error>(self, _: char) -> Result<Self::Value, E> {
            Err(E::custom(NOT_TEXT))
        }
        fn visit_bytes<E: Error>(self, _: &[u8]) -> Result<Self::Value, E> {
            Err(E::custom(NOT_TEXT))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(A::Error::custom(NOT_TEXT))
        }
        fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(A::Error::custom(NOT_TEXT))
        }
    }

    deserializer.deserialize_option(Text)
}

/// True when `VAULT_<KEY>` sets `key`.
#[cfg(test)]
pub(crate) fn settable_from_environment(key: &str) -> bool {
    SETTING_KEYS.contains(&key)
        || IDP_SETTING_KEYS.contains(&key)
        || KEY_MANAGER_SETTING_KEYS.contains(&key)
        || SOURCE_SETTING_KEYS.contains(&key)
        || AUDIT_SINK_SETTING_KEYS.contains(&key)
        || WEBHOOK_SETTING_KEYS.contains(&key)
}

/// A list of strings, from a TOML array or from one string separated by commas or white
/// space (as an environment variable gives it).
fn string_list<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List {
        One(String),
        Many(Vec<String>),
    }
    let items = match List::deserialize(deserializer)? {
        List::One(text) => text.split([',', ' ', '\n']).map(str::to_owned).collect(),
        List::Many(items) => items,
    };
    Ok(items
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect())
}

/// Log output format.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// For people.
    Human,
    /// One JSON object per line, for log pipelines.
    Json,
}

/// Every setting of the server.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Listen address.
    pub bind: String,
    /// The public base URL OAuth2 redirect URIs are made from (unset: each request's).
    pub public_url: Option<String>,
    /// `sqlite://<path>`, a plain path, or `postgres://...`.
    pub database_url: String,
    /// Connections in the PostgreSQL pool, per replica.
    pub database_max_connections: usize,
    /// How long a request waits for a database connection before it gets a 503.
    pub database_acquire_timeout_ms: u64,
    /// Apply pending migrations at start-up. Unset: yes on SQLite, no on PostgreSQL (where
    /// `vault-server migrate` is a deploy step; several replicas may still safely race).
    pub migrate_on_start: Option<bool>,
    /// The key-encryption key, 32 bytes as base64 or hex.
    #[serde(default, deserialize_with = "secret_text")]
    pub encryption_key: Option<SecretString>,
    /// Older keys kept to open data sealed before a rotation, comma-separated.
    #[serde(default, deserialize_with = "secret_text")]
    pub encryption_keys_previous: Option<SecretString>,
    /// HTTP worker threads (0 = one per core).
    pub workers: usize,
    /// `human` or `json`.
    pub log_format: LogFormat,
    /// Default log filter when `RUST_LOG` is unset.
    pub log_level: String,
    /// How long a verified access key is trusted before the store is asked again (0: never
    /// cached). Revocation on another replica takes effect within this time.
    pub auth_cache_ttl_ms: u64,
    /// Largest request body of the JSON routes but the proxy, in bytes.
    pub max_body_bytes: usize,
    /// Largest proxy request body (the JSON envelope with the body to send), in bytes.
    pub max_proxy_body_bytes: usize,
    /// Time for a request's line and headers to arrive, in milliseconds.
    pub http_header_timeout_ms: u64,
    /// Time for a request's whole body to arrive, in milliseconds (then 408).
    pub http_body_timeout_ms: u64,
    /// Idle keep-alive connections are closed after this many seconds.
    pub http_keep_alive_seconds: u64,
    /// Requests per second each caller's bucket refills with (0: no rate limit).
    pub rate_limit_per_second: u32,
    /// Requests each caller's bucket holds.
    pub rate_limit_burst: u32,
    /// Failed authentications per minute each source address's budget regains (0: no
    /// limit).
    pub auth_failure_limit_per_minute: u32,
    /// Failed authentications a source address may cause at once.
    pub auth_failure_limit_burst: u32,
    /// Reverse proxies (addresses or CIDR blocks) trusted to name the client in
    /// `forwarded_header`; empty: the TCP peer is every request's source.
    #[serde(deserialize_with = "string_list")]
    pub trusted_proxies: Vec<String>,
    /// `x-forwarded-for` or `forwarded`: where trusted proxies name the client.
    pub forwarded_header: String,
    /// Grace period for in-flight requests on shutdown.
    pub shutdown_timeout_seconds: u64,
    /// Development conveniences (generated key file, first organization) when no key is set.
    pub dev_mode: bool,
    /// Name of the organization created by a development run.
    pub dev_organization: String,
    /// Let the proxy and OAuth2 token requests reach private, loopback and link-local
    /// addresses (tests and local development only).
    pub proxy_allow_private_networks: bool,
    /// Certificates (PEM) of extra CAs trusted for TLS to upstreams, token endpoints and
    /// webhook receivers, beside the system's (a private CA); unset: the system's only.
    pub proxy_ca_file: Option<PathBuf>,
    /// Upstream connect timeout (DNS, TCP and TLS), in milliseconds.
    pub proxy_connect_timeout_ms: u64,
    /// Upstream total timeout per request, in milliseconds.
    pub proxy_timeout_ms: u64,
    /// Largest upstream response body passed back, in bytes.
    pub proxy_max_response_bytes: usize,
    /// Proxied calls in flight on this server, past which a call gets 503 (0: no bound).
    pub proxy_max_in_flight: usize,
    /// Proxied calls in flight for one access key or identity-provider subject, past which
    /// a call gets 429 (0: no bound).
    pub proxy_max_in_flight_per_key: usize,
    /// Versions of each credential's secret values kept for restore (0: all).
    pub credential_versions_kept: usize,
    /// Request-log entries older than this many days are deleted (0: kept forever).
    pub request_log_retention_days: u32,
    /// Audit events older than this many days are deleted (0: kept forever).
    pub audit_retention_days: u32,
    /// How often each server prunes the logs, in seconds.
    pub log_prune_interval_seconds: u64,
    /// How often the audit chains' heads are verified and checkpointed, in seconds.
    pub audit_checkpoint_interval_seconds: u64,

    // Streaming the audit log (see `crate::audit::streaming`).
    /// The JSON-lines file the audit log is streamed to; unset: none.
    pub audit_sink_file: Option<String>,
    /// Size past which the file is rotated, in bytes.
    pub audit_sink_file_max_bytes: u64,
    /// Rotated files kept (`audit.jsonl.1` ...).
    pub audit_sink_file_keep: u32,
    /// The syslog receiver the audit log is streamed to (`tcp://host:port` or
    /// `udp://host:port`); unset: none.
    pub audit_sink_syslog: Option<String>,
    /// The syslog facility of the messages (`auth`, `authpriv`, `local0` ...).
    pub audit_sink_syslog_facility: String,
    /// The https URL the audit log is POSTed to in batches (a JSON array each); unset:
    /// none.
    pub audit_sink_https: Option<String>,
    /// The header that authenticates those POSTs, as `Name: value` (`Authorization:
    /// Splunk <token>`).
    #[serde(default, deserialize_with = "secret_text")]
    pub audit_sink_https_header: Option<SecretString>,
    /// How often each sink looks for new events, in milliseconds.
    pub audit_sink_interval_ms: u64,

    // Webhook subscriptions (see `crate::webhooks`).
    /// How often due deliveries are sent, in milliseconds.
    pub webhook_send_interval_ms: u64,
    /// How often expiry reminders are computed, in seconds.
    pub webhook_reminder_interval_seconds: u64,
    /// Days a settled delivery stays listed (0: forever).
    pub webhook_delivery_retention_days: u32,

    // Identity-provider tokens beside access keys (see `crate::identity`).
    /// The `iss` of identity-provider tokens; setting it turns them on.
    pub idp_issuer: Option<String>,
    /// The audience those tokens must name in `aud`.
    pub idp_audience: Option<String>,
    /// Clock-skew tolerance on `exp` and `nbf`, in seconds.
    pub idp_leeway_seconds: u64,
    /// HS256 secrets (at least 32 bytes each), comma-separated.
    #[serde(default, deserialize_with = "secret_text")]
    pub idp_hs256_secrets: Option<SecretString>,
    /// PEM public-key files (RSA: RS256, EC P-256: ES256), comma-separated paths.
    pub idp_public_key_files: Option<String>,
    /// A JWKS file of the provider's RS256/ES256 keys.
    pub idp_jwks_file: Option<PathBuf>,
    /// The claim holding the organization id.
    pub idp_organization_claim: String,
    /// The claim holding the subject.
    pub idp_subject_claim: String,
    /// The claim holding the scopes.
    pub idp_scopes_claim: String,
    /// The claim holding the groups or roles grants may name.
    pub idp_groups_claim: String,

    // The key manager (see `crate::keyring`).
    /// `static`, `transit`, `awskms` or `pkcs11`.
    pub key_manager: String,
    /// How long one call to the key manager may take, in milliseconds.
    pub key_manager_timeout_ms: u64,
    /// How often each server checks the stored keyring, in milliseconds.
    pub keyring_refresh_interval_ms: u64,
    /// Transit: the server's address.
    pub transit_address: Option<String>,
    /// Transit: the engine's mount path.
    pub transit_mount: String,
    /// Transit: the key's name.
    pub transit_key: Option<String>,
    /// Transit: a token.
    #[serde(default, deserialize_with = "secret_text")]
    pub transit_token: Option<SecretString>,
    /// Transit: a file holding the token.
    pub transit_token_file: Option<PathBuf>,
    /// Transit: AppRole's mount path.
    pub transit_approle_mount: String,
    /// Transit: the AppRole role id.
    #[serde(default, deserialize_with = "secret_text")]
    pub transit_approle_role_id: Option<SecretString>,
    /// Transit: the AppRole secret id.
    #[serde(default, deserialize_with = "secret_text")]
    pub transit_approle_secret_id: Option<SecretString>,
    /// Transit: a file holding the AppRole secret id.
    pub transit_approle_secret_id_file: Option<PathBuf>,
    /// Transit: the namespace.
    pub transit_namespace: Option<String>,
    /// Transit: the CA bundle to trust.
    pub transit_ca_file: Option<PathBuf>,
    /// AWS KMS: the region.
    pub awskms_region: Option<String>,
    /// AWS KMS: the key.
    pub awskms_key_id: Option<String>,
    /// AWS KMS: an endpoint instead of the region's.
    pub awskms_endpoint: Option<String>,
    /// PKCS#11: the module.
    pub pkcs11_module: Option<PathBuf>,
    /// PKCS#11: the slot id.
    pub pkcs11_slot: Option<u64>,
    /// PKCS#11: the token's label (instead of a slot id).
    pub pkcs11_token_label: Option<String>,
    /// PKCS#11: the AES key's label.
    pub pkcs11_key_label: Option<String>,
    /// PKCS#11: the user PIN.
    #[serde(default, deserialize_with = "secret_text")]
    pub pkcs11_pin: Option<SecretString>,
    /// PKCS#11: a file holding the user PIN.
    pub pkcs11_pin_file: Option<PathBuf>,
}

impl Settings {
    /// Loads the settings: defaults, then `file` if given, then the environment.
    ///
    /// # Errors
    /// When the file is missing or a value has the wrong type or an unknown key.
    pub fn load(file: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        let mut figment = Figment::from(Toml::string(DEFAULTS));
        if let Some(path) = file {
            figment = figment.merge(Toml::file_exact(path));
        }
        figment
            // Only our own keys: shells of HashiCorp Vault users carry VAULT_ADDR and
            // VAULT_TOKEN, which must not stop this server from starting. Key material is
            // taken as text, never parsed (see RAW_STRING_KEYS).
            .merge(
                Env::prefixed("VAULT_")
                    .only(&SETTING_KEYS)
                    .filter(|key| RAW_STRING_KEYS.iter().all(|raw| *raw != key)),
            )
            .merge(
                Env::prefixed("VAULT_")
                    .only(&IDP_SETTING_KEYS)
                    .filter(|key| RAW_STRING_KEYS.iter().all(|raw| *raw != key)),
            )
            .merge(Env::prefixed("VAULT_").only(&SOURCE_SETTING_KEYS))
            .merge(Env::prefixed("VAULT_").only(&AUDIT_SINK_SETTING_KEYS))
            .merge(Env::prefixed("VAULT_").only(&WEBHOOK_SETTING_KEYS))
            .merge(
                Env::prefixed("VAULT_")
                    .only(&KEY_MANAGER_SETTING_KEYS)
                    .filter(|key| RAW_STRING_KEYS.iter().all(|raw| *raw != key)),
            )
            .merge(raw_strings(&Env::prefixed("VAULT_").only(&RAW_STRING_KEYS)))
            .merge(raw_strings(&Env::raw().only(&PLAIN_ENV_KEYS)))
            .extract()
            .map_err(Box::new)
    }

    /// The previous keys, split.
    #[must_use]
    pub fn previous_keys(&self) -> Vec<SecretString> {
        self.encryption_keys_previous
            .as_ref()
            .map(|all| {
                all.expose_secret()
                    .split([',', ' ', '\n'])
                    .filter(|s| !s.is_empty())
                    .map(|s| SecretString::from(s.to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Where the data lives.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database (the URL may hold a password: see [`redact_url`]).
    Postgres(String),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Self::Postgres(url) => f.debug_tuple("Postgres").field(&redact_url(url)).finish(),
        }
    }
}

/// A database URL fit for messages and logs: any password replaced by `***`.
#[must_use]
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(url) => url.to_string(),
        Err(_) => "<unparsable database URL>".to_owned(),
    }
}

impl Database {
    /// Reads a `DATABASE_URL`.
    ///
    /// # Errors
    /// For schemes this build cannot serve.
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(rest) = url.strip_prefix("sqlite://") {
            return Ok(Self::Sqlite(PathBuf::from(rest)));
        }
        if let Some(rest) = url.strip_prefix("sqlite:") {
            return Ok(Self::Sqlite(PathBuf::from(rest)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if url.contains("://") {
            return Err("DATABASE_URL must be sqlite://<path> or postgres://...".to_owned());
        }
        Ok(Self::Sqlite(PathBuf::from(url)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        assert_eq!(
            Database::parse("sqlite://./data/v.db"),
            Ok(Database::Sqlite("./data/v.db".into()))
        );
        assert_eq!(
            Database::parse("sqlite:///tmp/v.db"),
            Ok(Database::Sqlite("/tmp/v.db".into()))
        );
        assert_eq!(Database::parse("v.db"), Ok(Database::Sqlite("v.db".into())));
        assert!(Database::parse("mysql://x").is_err());
        assert_eq!(
            Database::parse("postgres://u:pw@h/db"),
            Ok(Database::Postgres("postgres://u:pw@h/db".into()))
        );
        let shown = format!(
            "{:?}",
            Database::parse("postgres://u:hunter2@h/db").expect("url")
        );
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn every_setting_can_come_from_the_environment() {
        // A key missing from SETTING_KEYS could only be set in a file.
        let defaults: figment::value::Dict = Figment::from(Toml::string(DEFAULTS))
            .extract()
            .expect("toml");
        for key in defaults.keys() {
            assert!(settable_from_environment(key), "{key} not in SETTING_KEYS");
        }
    }

    #[test]
    fn trusted_proxies_are_a_list_or_one_separated_string() {
        let with = |value: figment::value::Value| {
            Figment::from(Toml::string(DEFAULTS))
                .merge(Serialized::default("trusted_proxies", value))
                .extract::<Settings>()
                .expect("settings")
                .trusted_proxies
        };
        let want = ["127.0.0.1/32", "10.0.0.0/8"];
        assert_eq!(with("127.0.0.1/32, 10.0.0.0/8".into()), want);
        assert_eq!(with("127.0.0.1/32 10.0.0.0/8".into()), want);
        assert_eq!(with(vec!["127.0.0.1/32", "10.0.0.0/8"].into()), want);
        assert!(with("".into()).is_empty());
        let defaults = Figment::from(Toml::string(DEFAULTS))
            .extract::<Settings>()
            .expect("defaults");
        assert!(defaults.trusted_proxies.is_empty());
        assert_eq!(defaults.forwarded_header, "x-forwarded-for");
    }

    #[test]
    fn defaults_parse() {
        let settings = Figment::from(Toml::string(DEFAULTS))
            .extract::<Settings>()
            .expect("defaults");
        assert_eq!(settings.bind, "127.0.0.1:8080");
        assert_eq!(settings.database_url, "sqlite://./data/vault.db");
        assert!(settings.encryption_key.is_none());
    }
}
