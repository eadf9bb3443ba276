//! `POST /credentials/export` and `POST /credentials/import`: an organization's
//! credentials, secret values included, as an age file sealed to a passphrase or to public
//! keys, and back. The vault seals and opens the file itself: the API never carries a
//! secret value in the clear.

use actix_web::http::header;
use actix_web::web::{Data, Payload};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine as _;
use serde::Serialize;
use uuid::Uuid;
use vault_core::bundle::MAX_BUNDLE_BYTES;
use vault_core::vault::{ExportRequest, IdChoice, ImportOutcome, ImportRequest, Imported};
use vault_core::{BundleIdentity, BundleRecipient, CredentialId, Store, Vault};

use crate::ApiConfig;
use crate::auth::authenticate;
use crate::body::{Fields, read_json_body, reject_unknown};
use crate::error::ApiError;

/// The largest import body: the bundle in base64, and room for the rest.
const MAX_IMPORT_BODY: usize = MAX_BUNDLE_BYTES / 3 * 4 + 64 * 1024;

/// One of two fields, exactly: `Ok(None)` with the error recorded otherwise.
fn one_of<A, B>(
    fields: &mut Fields,
    (first, a): (&str, Option<A>),
    (second, b): (&str, Option<B>),
) -> Option<Result<A, B>> {
    match (a, b) {
        (Some(a), None) => Some(Ok(a)),
        (None, Some(b)) => Some(Err(b)),
        (Some(_), Some(_)) => {
            fields
                .errors
                .add(first, format!("give either {first} or {second}, not both"));
            None
        }
        (None, None) => {
            fields
                .errors
                .add(first, format!("give {first} or {second}"));
            None
        }
    }
}

#[utoipa::path(
    post,
    path = "/credentials/export",
    operation_id = "exportCredentials",
    summary = "Export credentials, sealed",
    tag = "credentials",
    description = "Every credential of the organization, its secret values included (and, with `versions`, the kept versions of them), in an age file sealed to `passphrase` (age's scrypt recipient, at least 12 characters) or to `recipients` (age X25519 public keys): any age implementation opens it, and `POST /credentials/import` takes it into another organization or installation. Needs `credentials:export`, which no key has unless issued by name. Each credential exported is audited (`credential.export`).",
    request_body(content = crate::openapi::ExportRequestSchema, content_type = "application/json"),
    responses(
        (status = 200, description = "The bundle (an age file)", content_type = "application/octet-stream", body = crate::openapi::BundleFile,
            headers(("Vault-Exported-Credentials" = u64, description = "How many credentials it holds"))),
        (status = 400, response = crate::openapi::ProblemResponse),
        (status = 413, response = crate::openapi::ProblemResponse),
        (status = 415, response = crate::openapi::ProblemResponse),
        (status = 422, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn export<S: Store>(
    req: HttpRequest,
    payload: Payload,
    vault: Data<Vault<S>>,
    config: Data<ApiConfig>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let map = read_json_body(&req, payload, config.max_body_bytes).await?;
    reject_unknown(
        &map,
        &["passphrase", "recipients", "versions", "organization"],
        "",
    )?;
    let mut fields = Fields::new(map);
    let passphrase = fields.secret("passphrase");
    let recipients = fields.string_array("recipients");
    let versions = fields.boolean("versions").unwrap_or(false);
    let organization = fields.string("organization");
    let to = one_of(
        &mut fields,
        ("passphrase", passphrase),
        ("recipients", recipients),
    );
    let (Some(to), true) = (to, fields.errors.is_empty()) else {
        return Err(ApiError::Invalid(fields.errors));
    };
    let to = to.map_or_else(BundleRecipient::PublicKeys, BundleRecipient::Passphrase);
    let request = ExportRequest {
        to,
        versions,
        organization,
    };
    let export = vault.export_credentials(&who, request).await?;
    let name = format!("vault-export-{}.age", who.organization_id);
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header(("Vault-Exported-Credentials", export.credentials.to_string()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(export.bundle))
}

/// What an import did.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ImportView {
    created: usize,
    existing: usize,
    id_taken: usize,
    items: Vec<ImportedView>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ImportedView {
    source_id: Uuid,
    id: CredentialId,
    name: String,
    outcome: &'static str,
}

impl ImportView {
    fn new(items: Vec<Imported>) -> Self {
        let count = |outcome| items.iter().filter(|i| i.outcome == outcome).count();
        Self {
            created: count(ImportOutcome::Created),
            existing: count(ImportOutcome::Exists),
            id_taken: count(ImportOutcome::IdTaken),
            items: items
                .into_iter()
                .map(|i| ImportedView {
                    source_id: i.source_id,
                    id: i.id,
                    name: i.name,
                    outcome: i.outcome.as_str(),
                })
                .collect(),
        }
    }
}

#[utoipa::path(
    post,
    path = "/credentials/import",
    operation_id = "importCredentials",
    summary = "Import an export bundle",
    tag = "credentials",
    description = "Opens a bundle (`bundle`: the age file in base64) with `passphrase` or `identity` (an age X25519 secret key), checks every credential in it as a create body is checked, then creates them, their values sealed under this installation's keys. A wrong passphrase or one invalid credential imports nothing. `ids`: `keep` (the default) keeps the bundle's ids; `new` derives new ones from this organization and each exported id. A credential whose id is already here is left as it is (`exists`), so importing a bundle again changes nothing. Needs `credentials:write`. Each credential created is audited (`credential.import`).",
    request_body(content = crate::openapi::ImportRequestSchema, content_type = "application/json"),
    responses(
        (status = 200, description = "What became of each credential", body = crate::openapi::ImportResult),
        (status = 400, response = crate::openapi::ProblemResponse),
        (status = 413, response = crate::openapi::ProblemResponse),
        (status = 415, response = crate::openapi::ProblemResponse),
        (status = 422, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn import<S: Store>(
    req: HttpRequest,
    payload: Payload,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let map = read_json_body(&req, payload, MAX_IMPORT_BODY).await?;
    reject_unknown(&map, &["bundle", "passphrase", "identity", "ids"], "")?;
    let mut fields = Fields::new(map);
    let bundle = fields.string("bundle").and_then(|text| {
        let compact: String = text.split_ascii_whitespace().collect();
        let decoded = base64::engine::general_purpose::STANDARD.decode(compact);
        fields.errors.take(decoded.map_err(|_| {
            vault_core::FieldError::new("bundle", "must be the bundle file in base64")
        }))
    });
    if bundle.is_none() && fields.errors.is_empty() {
        fields.errors.add("bundle", "is required");
    }
    let passphrase = fields.secret("passphrase");
    let identity = fields.secret("identity");
    let with = one_of(
        &mut fields,
        ("passphrase", passphrase),
        ("identity", identity),
    );
    let ids = match fields.string("ids").as_deref() {
        None | Some("keep") => Some(IdChoice::Keep),
        Some("new") => Some(IdChoice::New),
        Some(_) => {
            fields.errors.add("ids", "must be keep or new");
            None
        }
    };
    let (Some(bundle), Some(with), Some(ids), true) = (bundle, with, ids, fields.errors.is_empty())
    else {
        return Err(ApiError::Invalid(fields.errors));
    };
    let with = with.map_or_else(BundleIdentity::SecretKey, BundleIdentity::Passphrase);
    let items = vault
        .import_credentials(&who, ImportRequest { bundle, with, ids })
        .await?;
    Ok(HttpResponse::Ok().json(ImportView::new(items)))
}
