//! The schemas of export and import (`/credentials/export`, `/credentials/import`).

use utoipa::ToSchema;

/// `POST /credentials/export`: whom to seal the bundle to (exactly one of `passphrase` and
/// `recipients`), and whether to include the versions.
#[derive(ToSchema)]
#[schema(as = ExportRequest)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExportRequestSchema {
    /// Seals the bundle to this passphrase (age's scrypt recipient): at least 12
    /// characters. It alone guards every secret in the bundle.
    #[schema(write_only, min_length = 12, max_length = 1024, nullable = false)]
    passphrase: Option<String>,
    /// Seals the bundle to these age X25519 public keys (`age1...`), for automation: any
    /// of their secret keys opens it.
    #[schema(min_items = 1, max_items = 16, nullable = false)]
    recipients: Option<Vec<String>>,
    /// Also export the kept versions of each credential's secret values (default false).
    #[schema(nullable = false)]
    versions: Option<bool>,
    /// The organization meant: refused unless it is the access key's own, a guard for
    /// someone switching between keys.
    #[schema(format = Uuid, nullable = false)]
    organization: Option<String>,
}

/// An export bundle: an age file.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub(crate) struct BundleFile(#[allow(dead_code, reason = "a schema only")] Vec<u8>);

/// Whether imported credentials keep their ids.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ImportIds {
    /// The bundle's ids (moving an organization to another installation).
    Keep,
    /// New ids derived from this organization and each exported id (copying within one
    /// installation); importing again finds them.
    New,
}

/// `POST /credentials/import`: the bundle, and exactly one of `passphrase` and `identity`.
#[derive(ToSchema)]
#[schema(as = ImportRequest)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImportRequestSchema {
    /// The bundle file, in base64.
    #[schema(format = Byte)]
    bundle: String,
    /// The passphrase it was sealed to.
    #[schema(write_only, nullable = false)]
    passphrase: Option<String>,
    /// An age X25519 secret key (`AGE-SECRET-KEY-1...`) of a public key it was sealed to.
    #[schema(write_only, nullable = false)]
    identity: Option<String>,
    /// Default `keep`.
    #[schema(nullable = false)]
    ids: Option<ImportIds>,
}

/// What became of one credential: `created`; `exists` (its id is already in this
/// organization, from an earlier import, and was left as it is); or `idTaken` (its id
/// belongs to another organization: import with `ids: new`).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ImportOutcome {
    Created,
    Exists,
    IdTaken,
}

/// One credential of the bundle.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImportedItem {
    /// Its id in the bundle.
    #[schema(format = Uuid)]
    source_id: String,
    /// Its id here.
    #[schema(format = Uuid)]
    id: String,
    name: String,
    outcome: ImportOutcome,
}

/// What an import did, in the bundle's order.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImportResult {
    created: u64,
    existing: u64,
    id_taken: u64,
    items: Vec<ImportedItem>,
}
