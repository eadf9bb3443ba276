//! `/credentials`: create, list, read, update, delete. Responses never carry a secret.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::header;
use actix_web::web::{Data, Path, Payload, Query};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use time::OffsetDateTime;
use vault_core::credential_types::SPECS;
use vault_core::vault::ConnectionInfo;
use vault_core::{
    AllowedHosts, Credential, CredentialFields, CredentialId, CredentialKind, CredentialType,
    ListRequest, Principal, Store, Vault,
};

use crate::ApiConfig;
use crate::auth::authenticate;
use crate::body::{Fields, read_json_body, reject_unknown};
use crate::error::ApiError;
use crate::params::{ListView, etag, if_match, parse_id, parse_limit};

const COMMON_FIELDS: [&str; 5] = [
    "name",
    "description",
    "expiresAt",
    "allowedHosts",
    "caBundle",
];
const PLACEMENT_FIELDS: [&str; 3] = ["in", "name", "prefix"];

/// A credential as the API shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CredentialView<'a> {
    id: CredentialId,
    name: &'a str,
    #[serde(flatten)]
    kind: &'a CredentialKind,
    allowed_hosts: &'a AllowedHosts,
    ca_bundle: Option<&'a str>,
    description: Option<&'a str>,
    #[serde(with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
    expired: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    /// The ETag counter: every change moves it (its metadata too), unlike the numbers of
    /// the secret values' versions (`/versions`).
    revision: i64,
    secret_hints: &'a BTreeMap<String, String>,
    /// An authorization-code credential's connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    connection: Option<ConnectionView>,
}

/// Where an authorization-code credential's connection stands.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionView {
    status: &'static str,
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    connected_at: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// The connections of `credentials` that have one, by id.
pub(crate) type Connections = HashMap<CredentialId, ConnectionInfo>;

impl<'a> CredentialView<'a> {
    pub(crate) fn new(c: &'a Credential, now: OffsetDateTime, connections: &Connections) -> Self {
        Self {
            id: c.id,
            name: c.name.as_str(),
            kind: &c.kind,
            allowed_hosts: &c.allowed_hosts,
            ca_bundle: c.ca_bundle.as_ref().map(|b| b.as_str()),
            description: c.description.as_ref().map(|d| d.as_str()),
            expires_at: c.expires_at,
            expired: c.is_expired(now),
            created_at: c.created_at,
            updated_at: c.updated_at,
            revision: c.version,
            secret_hints: &c.secret_hints,
            connection: connections.get(&c.id).map(|info| ConnectionView {
                status: info.status.as_str(),
                connected_at: info.connected_at,
                reason: info.reason.clone(),
            }),
        }
    }
}

fn check_known_fields(
    map: &serde_json::Map<String, serde_json::Value>,
    extra: &[&'static str],
) -> Result<(), ApiError> {
    // Every type's fields are known here: a field of another type is the domain's 422
    // ("does not apply to type ..."), only a name no type has is a 400.
    let type_fields = SPECS.iter().flat_map(|spec| spec.field_names());
    let allowed: Vec<&str> = COMMON_FIELDS
        .into_iter()
        .chain(type_fields)
        .chain(extra.iter().copied())
        .collect();
    reject_unknown(map, &allowed, "")?;
    if let Some(serde_json::Value::Object(placement)) = map.get("placement") {
        reject_unknown(placement, &PLACEMENT_FIELDS, "placement.")?;
    }
    Ok(())
}

/// A create body, field by field: its type and the fields, or every problem found.
pub(crate) fn create_input(
    map: serde_json::Map<String, serde_json::Value>,
) -> Result<(CredentialType, CredentialFields), ApiError> {
    check_known_fields(&map, &["type"])?;
    let mut fields = Fields::new(map);
    let credential_type = match fields.string("type") {
        Some(raw) => fields.errors.take(raw.parse::<CredentialType>()),
        None if fields.contains("type") => None,
        None => {
            fields.errors.add("type", "is required");
            None
        }
    };
    let input = CredentialFields::take_from(&mut fields);
    let Some(credential_type) = credential_type.filter(|_| fields.errors.is_empty()) else {
        return Err(ApiError::Invalid(fields.errors));
    };
    Ok((credential_type, input))
}

/// A patch body, field by field: the fields, or every problem found.
pub(crate) fn update_input(
    map: serde_json::Map<String, serde_json::Value>,
) -> Result<CredentialFields, ApiError> {
    check_known_fields(&map, &["type"])?;
    let mut fields = Fields::new(map);
    if fields.contains("type") {
        fields
            .errors
            .add("type", "cannot be changed; create a new credential instead");
    }
    let input = CredentialFields::take_from(&mut fields);
    if !fields.errors.is_empty() {
        return Err(ApiError::Invalid(fields.errors));
    }
    Ok(input)
}

fn location(id: CredentialId) -> String {
    format!("/credentials/{id}")
}

/// 200 with the credential (and its connection, if it has one) and its `ETag`.
pub(crate) async fn current<S: Store>(
    vault: &Vault<S>,
    who: &Principal,
    credential: &Credential,
) -> Result<HttpResponse, ApiError> {
    let connections = vault.connections(who, &[credential]).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(credential)))
        .json(CredentialView::new(credential, vault.now(), &connections)))
}

#[utoipa::path(
    post,
    path = "/credentials",
    operation_id = "createCredential",
    summary = "Create a credential",
    tag = "credentials",
    description = "Creates a credential. Needs `credentials:write`. The secret values are sealed and never returned.",
    request_body(content = crate::openapi::CredentialCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; `Location` names it", body = crate::openapi::CredentialSchema,
            headers(("Location" = String, description = "The credential's URL"), ("ETag" = String, description = "Its revision"))),
        (status = 400, response = crate::openapi::ProblemResponse),
        (status = 413, response = crate::openapi::ProblemResponse),
        (status = 415, response = crate::openapi::ProblemResponse),
        (status = 422, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn create<S: Store>(
    req: HttpRequest,
    payload: Payload,
    vault: Data<Vault<S>>,
    config: Data<ApiConfig>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let map = read_json_body(&req, payload, config.max_body_bytes).await?;
    let (credential_type, input) = create_input(map)?;
    let credential = vault
        .create_credential(&who, credential_type, &input)
        .await?;
    let connections = vault.connections(&who, &[&credential]).await?;
    let now = vault.now();
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location(credential.id)))
        .insert_header((header::ETAG, etag(&credential)))
        .json(CredentialView::new(&credential, now, &connections)))
}

#[utoipa::path(
    get,
    path = "/credentials",
    operation_id = "listCredentials",
    summary = "List credentials",
    tag = "credentials",
    description = "Lists the organization's credentials in id order. Needs `credentials:read`.",
    params(
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Page size (default 50)"),
        ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page"),
        ("type" = Option<crate::openapi::CredentialType>, Query, description = "Only this type"),
        ("expiringWithin" = Option<String>, Query, description = "Only credentials expiring within this ISO 8601 duration (`P7D`, `PT12H`, `PT30M`; years and months are refused)"),
    ),
    responses(
        (status = 200, description = "A page", body = crate::openapi::CredentialList),
        (status = 400, response = crate::openapi::ProblemResponse),
        (status = 422, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn list<S: Store>(
    req: HttpRequest,
    query: Query<BTreeMap<String, String>>,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let mut query = query.into_inner();
    let request = ListRequest {
        limit: parse_limit(query.remove("limit"))?,
        cursor: query.remove("cursor"),
        credential_type: query.remove("type"),
        expiring_within: query.remove("expiringWithin"),
    };
    if let Some(unknown) = query.keys().next() {
        return Err(ApiError::UnknownField(unknown.clone()));
    }
    let page = vault.list_credentials(&who, &request).await?;
    let listed: Vec<&Credential> = page.items.iter().collect();
    let connections = vault.connections(&who, &listed).await?;
    let now = vault.now();
    Ok(HttpResponse::Ok().json(ListView {
        items: page
            .items
            .iter()
            .map(|c| CredentialView::new(c, now, &connections))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(
    get,
    path = "/credentials/{id}",
    operation_id = "getCredential",
    summary = "Read a credential",
    tag = "credentials",
    description = "Reads one credential (public fields and secret hints). Needs `credentials:read`.",
    params(("id" = String, Path, description = "The credential id (UUID)")),
    responses(
        (status = 200, description = "The credential", body = crate::openapi::CredentialSchema,
            headers(("ETag" = String, description = "Its revision, for If-Match"))),
        (status = 404, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn get<S: Store>(
    req: HttpRequest,
    id: Path<String>,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let credential = vault.get_credential(&who, parse_id(&id)?).await?;
    current(&vault, &who, &credential).await
}

#[utoipa::path(
    patch,
    path = "/credentials/{id}",
    operation_id = "updateCredential",
    summary = "Change a credential",
    tag = "credentials",
    description = "Changes some fields; new secret values are sealed as a new version. Needs `credentials:write`. A change that adds a destination (an `allowedHosts` entry, another `tokenUrl` or `audience`, a JWT `aud`) also needs the secret values re-entered in the same request, or `credentials:route` (else 403 `route-not-allowed`).",
    params(("id" = String, Path, description = "The credential id (UUID)"),
        ("If-Match" = Option<String>, Header, description = "Apply only if the credential is still at one of these ETags (`*`, or a list; weak tags never match)"),
    ),
    request_body(content = crate::openapi::CredentialUpdate, content_type = "application/json"),
    responses(
        (status = 200, description = "The updated credential", body = crate::openapi::CredentialSchema,
            headers(("ETag" = String, description = "Its new revision"))),
        (status = 400, response = crate::openapi::ProblemResponse),
        (status = 404, response = crate::openapi::ProblemResponse),
        (status = 409, response = crate::openapi::ProblemResponse),
        (status = 412, response = crate::openapi::ProblemResponse),
        (status = 413, response = crate::openapi::ProblemResponse),
        (status = 415, response = crate::openapi::ProblemResponse),
        (status = 422, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn update<S: Store>(
    req: HttpRequest,
    id: Path<String>,
    payload: Payload,
    vault: Data<Vault<S>>,
    config: Data<ApiConfig>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let id = parse_id(&id)?;
    let map = read_json_body(&req, payload, config.max_body_bytes).await?;
    let input = update_input(map)?;
    let precondition = if_match(&req)?;
    let credential = vault
        .update_credential(&who, id, &input, precondition.as_deref())
        .await?;
    current(&vault, &who, &credential).await
}

#[utoipa::path(
    delete,
    path = "/credentials/{id}",
    operation_id = "deleteCredential",
    summary = "Delete a credential",
    tag = "credentials",
    description = "Deletes a credential and its versions. Needs `credentials:write`.",
    params(("id" = String, Path, description = "The credential id (UUID)"),
        ("If-Match" = Option<String>, Header, description = "Delete only if the credential is still at one of these ETags (`*`, or a list; weak tags never match)"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, response = crate::openapi::ProblemResponse),
        (status = 404, response = crate::openapi::ProblemResponse),
        (status = 409, response = crate::openapi::ProblemResponse),
        (status = 412, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn delete<S: Store>(
    req: HttpRequest,
    id: Path<String>,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let precondition = if_match(&req)?;
    vault
        .delete_credential(&who, parse_id(&id)?, precondition.as_deref())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn parsed(lines: &[&str]) -> Result<Option<Vec<i64>>, &'static str> {
        let mut req = TestRequest::default();
        for line in lines {
            req = req.append_header((header::IF_MATCH, *line));
        }
        if_match(&req.to_http_request()).map_err(|e| match e {
            ApiError::InvalidHeader(_) => "invalid-header",
            _ => "other",
        })
    }

    #[test]
    fn if_match_accepts_any_listed_strong_tag() {
        assert_eq!(parsed(&[]), Ok(None));
        assert_eq!(parsed(&["*"]), Ok(None));
        assert_eq!(parsed(&["\"7\""]), Ok(Some(vec![7])));
        assert_eq!(parsed(&["\"7\", \"1\""]), Ok(Some(vec![7, 1])));
        assert_eq!(parsed(&["\"7\",\"1\" ,, \"2\""]), Ok(Some(vec![7, 1, 2])));
        assert_eq!(parsed(&["\"7\"", "\"1\""]), Ok(Some(vec![7, 1])));
        // Weak and foreign tags are well formed and match nothing.
        assert_eq!(parsed(&["W/\"1\""]), Ok(Some(vec![])));
        assert_eq!(parsed(&["W/\"1\", \"2\""]), Ok(Some(vec![2])));
        assert_eq!(parsed(&["\"a,b\", \"+1\", \"\""]), Ok(Some(vec![])));
        assert_eq!(parsed(&[""]), Ok(Some(vec![])));
    }

    #[test]
    fn a_malformed_if_match_is_a_400() {
        for bad in [
            "1",
            "\"1",
            "\"1\" \"2\"",
            "\"1\"x",
            "w/\"1\"",
            "W/1",
            "*, \"1\"",
            "\"1\", *",
            "\"a b\"",
        ] {
            assert_eq!(parsed(&[bad]), Err("invalid-header"), "{bad}");
        }
        assert_eq!(parsed(&["*", "\"1\""]), Err("invalid-header"));
    }
}
