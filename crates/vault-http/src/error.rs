//! The one place where failures become HTTP responses: RFC 9457 problem+json bodies with a
//! stable machine-readable `code`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use vault_core::upstream::UpstreamError;
use vault_core::{FieldError, ValidationErrors, VaultError};

use crate::context::current_request_id;

/// Everything a request can fail with.
#[derive(Debug)]
pub enum ApiError {
    /// A use case failed.
    Vault(VaultError),
    /// The body is not JSON.
    MalformedJson,
    /// The body is JSON but not an object.
    NotAnObject,
    /// The body has a field the endpoint does not know.
    UnknownField(String),
    /// The body names one field twice in one object (its path, `headers.X-A`).
    DuplicateField(String),
    /// A request header is malformed (its name).
    InvalidHeader(&'static str),
    /// Fields are missing, of the wrong JSON type, or invalid.
    Invalid(ValidationErrors),
    /// The body is over the endpoint's limit.
    PayloadTooLarge(usize),
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// No such route or resource.
    NotFound,
    /// The route exists, the method does not.
    MethodNotAllowed,
    /// The body could not be read.
    BadBody,
    /// The body did not arrive in time.
    BodyTimeout,
    /// The caller's rate limit is spent; the next request is allowed after this long.
    RateLimited(std::time::Duration),
    /// The server has as many proxied calls in flight as it allows.
    ProxyBusy,
    /// This caller has as many proxied calls in flight as it may.
    ProxyCallerBusy,
}

impl From<VaultError> for ApiError {
    fn from(error: VaultError) -> Self {
        match error {
            VaultError::NotFound => Self::NotFound,
            VaultError::Invalid(errors) => Self::Invalid(errors),
            other => Self::Vault(other),
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Invalid(errors)
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        Self::Invalid(error.into())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (_, code, title, _) = self.describe();
        write!(f, "{code}: {title}")
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Problem<'a> {
    #[serde(rename = "type")]
    problem_type: String,
    title: &'a str,
    status: u16,
    detail: String,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<ProblemField<'a>>,
    request_id: String,
}

#[derive(Serialize)]
struct ProblemField<'a> {
    field: &'a str,
    message: &'a str,
}

/// Field names echoed back are cut short: they come from the caller.
fn shorten(name: &str) -> String {
    name.chars().take(64).collect()
}

impl ApiError {
    /// (status, code, title, detail)
    fn describe(&self) -> (StatusCode, &'static str, &'static str, String) {
        match self {
            Self::MalformedJson => (
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "Malformed JSON",
                "The request body is not valid JSON.".to_owned(),
            ),
            Self::NotAnObject => (
                StatusCode::BAD_REQUEST,
                "invalid-body",
                "Invalid body",
                "The request body must be a JSON object.".to_owned(),
            ),
            Self::UnknownField(name) => (
                StatusCode::BAD_REQUEST,
                "unknown-field",
                "Unknown field",
                format!("The field `{}` is not part of this request.", shorten(name)),
            ),
            Self::DuplicateField(name) => (
                StatusCode::BAD_REQUEST,
                "duplicate-field",
                "Duplicate field",
                format!(
                    "The field `{}` appears more than once in one object; send it once.",
                    shorten(name)
                ),
            ),
            Self::InvalidHeader(name) => (
                StatusCode::BAD_REQUEST,
                "invalid-header",
                "Invalid header",
                if *name == "If-Match" {
                    "The `If-Match` header is malformed: it is `*`, or a list of entity tags, \
                     each in double quotes (`If-Match: \"4\"` for revision 4)."
                        .to_owned()
                } else {
                    format!("The `{name}` header is malformed.")
                },
            ),
            Self::Invalid(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-field",
                "Invalid or missing fields",
                errors.to_string(),
            ),
            Self::PayloadTooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
                format!("The request body exceeds {limit} bytes."),
            ),
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "Send the body as application/json.".to_owned(),
            ),
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                "No such resource.".to_owned(),
            ),
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                "This resource does not support that method.".to_owned(),
            ),
            Self::BadBody => (
                StatusCode::BAD_REQUEST,
                "unreadable-body",
                "Unreadable body",
                "The request body could not be read.".to_owned(),
            ),
            Self::BodyTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                "request-timeout",
                "Request timeout",
                "The request body did not arrive in time.".to_owned(),
            ),
            Self::RateLimited(wait) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
                format!(
                    "This caller's rate limit is spent; retry in {} s.",
                    retry_after_seconds(*wait)
                ),
            ),
            Self::ProxyBusy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "proxy-busy",
                "Proxy busy",
                "This server has as many proxied requests in flight as it allows; retry shortly."
                    .to_owned(),
            ),
            Self::ProxyCallerBusy => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-in-flight",
                "Too many proxied requests in flight",
                "This caller has as many proxied requests in flight as it may; retry when one has finished."
                    .to_owned(),
            ),
            Self::Vault(error) => describe_vault(error),
        }
    }
}

pub(crate) fn describe_vault(
    error: &VaultError,
) -> (StatusCode, &'static str, &'static str, String) {
    match error {
        VaultError::Unauthenticated => (
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            "Send a valid, active access key (or a valid token of the configured identity provider) as `Authorization: Bearer <token>`."
                .to_owned(),
        ),
        VaultError::MissingScope(scope) => (
            StatusCode::FORBIDDEN,
            "insufficient-scope",
            "Insufficient scope",
            format!("This access key or token lacks the `{scope}` scope."),
        ),
        VaultError::ScopeEscalation(scopes) => (
            StatusCode::FORBIDDEN,
            "scope-escalation",
            "Scope escalation",
            format!(
                "An access key can neither grant scopes it does not hold nor revoke a key that holds them: {}.",
                scopes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        VaultError::NotFound => (
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            "No such resource.".to_owned(),
        ),
        VaultError::Conflict => (
            StatusCode::CONFLICT,
            "conflict",
            "Conflict",
            "The resource is being changed concurrently; retry.".to_owned(),
        ),
        VaultError::Invalid(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            "Invalid or missing fields",
            errors.to_string(),
        ),
        VaultError::Unavailable(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "store-unavailable",
            "Service unavailable",
            "The credential store is unavailable; retry shortly.".to_owned(),
        ),
        VaultError::Expired { at } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "credential-expired",
            "Credential expired",
            format!(
                "The credential expired at {}; it is never applied. Update its expiresAt or its secret.",
                at.format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default()
            ),
        ),
        VaultError::RouteNotAllowed(fields) => (
            StatusCode::FORBIDDEN,
            "route-not-allowed",
            "Destination change not allowed",
            format!(
                "This change would let the stored secret reach a new destination ({}): re-enter the secret values in the same request, or use a key with the `credentials:route` scope.",
                fields.join(", ")
            ),
        ),
        VaultError::DestinationNotAllowed => (
            StatusCode::FORBIDDEN,
            "destination-not-allowed",
            "Destination not allowed",
            "The URL's scheme, host and port are not in this credential's allowedHosts.".to_owned(),
        ),
        VaultError::Upstream(error) => {
            let status = match error {
                UpstreamError::ForbiddenAddress { .. } => StatusCode::FORBIDDEN,
                UpstreamError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
                _ => StatusCode::BAD_GATEWAY,
            };
            let (title, hint) = match error {
                // Named for whoever runs a local upstream (tests, development) and meets it.
                UpstreamError::ForbiddenAddress { .. } => (
                    "Forbidden destination",
                    " The server's operator can allow private networks with the setting \
                     proxy_allow_private_networks (VAULT_PROXY_ALLOW_PRIVATE_NETWORKS=true), \
                     for tests and local development only.",
                ),
                _ => ("Upstream request failed", ""),
            };
            (status, error.code(), title, format!("{error}.{hint}"))
        }
        VaultError::TokenEndpoint(error) => (
            StatusCode::BAD_GATEWAY,
            "token-endpoint-failed",
            "OAuth2 token request failed",
            format!("{error}."),
        ),
        VaultError::Shared(inner) => describe_vault(inner),
        VaultError::PreconditionFailed => (
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            "Precondition failed",
            "The credential changed since the revision If-Match names; read it again (its ETag) and retry."
                .to_owned(),
        ),
        VaultError::NotGranted => (
            StatusCode::FORBIDDEN,
            "not-granted",
            "Not granted",
            "No grant lets this access key or token use this credential: ask for a grant, or use a key with `credentials:use-all`."
                .to_owned(),
        ),
        VaultError::RequestNotGranted(rule) => (
            StatusCode::FORBIDDEN,
            "request-not-granted",
            "Request not granted",
            format!(
                "Your grant of this credential does not allow this request: it is outside the grant's {}.",
                rule.field()
            ),
        ),
        VaultError::BudgetExhausted { window, retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            "budget-exhausted",
            "Budget exhausted",
            match retry_after {
                Some(seconds) => format!(
                    "Your grant's {} budget is spent; nothing was sent. Retry in {seconds} s.",
                    window.as_str()
                ),
                None => "Your grant's total budget is spent; nothing was sent, and it does not refill: ask for a new grant.".to_owned(),
            },
        ),
        VaultError::NotConnectable => (
            StatusCode::CONFLICT,
            "not-connectable",
            "Not connectable",
            "Only an oauth2 credential with the authorization_code grant has a connection."
                .to_owned(),
        ),
        VaultError::NotConnected(id) => (
            StatusCode::CONFLICT,
            "not-connected",
            "Not connected",
            format!(
                "Credential {id} was never connected; nothing was sent. Connect it: POST /credentials/{id}/connect, then open the URL it returns."
            ),
        ),
        VaultError::ReconnectRequired(id) => (
            StatusCode::CONFLICT,
            "reconnect-required",
            "Reconnect required",
            format!(
                "Credential {id} must be connected again: its provider refused the refresh token. Nothing was sent. Connect it again: POST /credentials/{id}/connect."
            ),
        ),
        VaultError::InvalidConnectState => (
            StatusCode::BAD_REQUEST,
            "invalid-connect-state",
            "Invalid connect link",
            "This connect link is unknown, already used or expired. Start connecting again."
                .to_owned(),
        ),
        VaultError::AuthorizationRefused(code) => (
            StatusCode::BAD_REQUEST,
            "authorization-refused",
            "Authorization refused",
            match code {
                Some(code) => format!("The provider did not authorize the connection (error: {code}). The credential is unchanged."),
                None => "The provider did not authorize the connection. The credential is unchanged.".to_owned(),
            },
        ),
        VaultError::Bundle(vault_core::BundleError::WrongIdentity) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "bundle-not-opened",
            "The bundle did not open",
            "The passphrase or secret key given is not one this bundle was sealed to: nothing was imported."
                .to_owned(),
        ),
        VaultError::Bundle(vault_core::BundleError::Unreadable) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "bundle-unreadable",
            "Not a bundle",
            "The bundle is not an encrypted export (an age file), or it was damaged: nothing was imported."
                .to_owned(),
        ),
        VaultError::Bundle(vault_core::BundleError::TooCostly(why)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "bundle-too-costly",
            "Bundle too costly to open",
            format!("The bundle's passphrase key derivation asks for more work than the vault does ({why}): nothing was imported. Export it again with age's default work factor."),
        ),
        VaultError::Bundle(vault_core::BundleError::Unsupported) => (
            StatusCode::NOT_IMPLEMENTED,
            "bundles-unsupported",
            "Bundles unsupported",
            "This vault was built without a bundle cipher, so it neither exports nor imports.".to_owned(),
        ),
        VaultError::Cipher(vault_core::CipherError::UnknownKey(key)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "encryption-key-missing",
            "Encryption key missing",
            format!(
                "This credential is sealed under key {key}, which is not in the configured keyring. \
                 Add that key to ENCRYPTION_KEYS_PREVIOUS, then run `vault-server keys rewrap`."
            ),
        ),
        VaultError::Cipher(vault_core::CipherError::Tampered) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "sealed-data-tampered",
            "Sealed data failed authentication",
            "The stored secret does not authenticate for this credential, organization and \
             version: it was changed, moved or rolled back behind the vault's back. It was not \
             used; quote the requestId when reporting it."
                .to_owned(),
        ),
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal-error",
            "Internal error",
            "The vault failed to handle the request; quote the requestId when reporting it."
                .to_owned(),
        ),
    }
}

/// Whole seconds for `Retry-After`, rounded up: retrying sooner would only be refused.
fn retry_after_seconds(wait: std::time::Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// Logs an error with its whole cause chain (never secret: errors carry none).
fn log_chain(error: &(dyn std::error::Error + 'static)) {
    let mut chain = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push(cause.to_string());
        source = cause.source();
    }
    tracing::error!(error = %chain.join(": "), "request failed");
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.describe().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code, title, detail) = self.describe();
        if status.is_server_error()
            && let Self::Vault(error) = self
        {
            log_chain(error);
        }
        let errors: Vec<ProblemField<'_>> = match self {
            Self::Invalid(errors) | Self::Vault(VaultError::Invalid(errors)) => errors
                .errors()
                .iter()
                .map(|e| ProblemField {
                    field: &e.field,
                    message: &e.message,
                })
                .collect(),
            _ => Vec::new(),
        };
        let unknown;
        let field = match self {
            Self::UnknownField(name) | Self::DuplicateField(name) => {
                unknown = shorten(name);
                Some(unknown.as_str())
            }
            Self::Vault(VaultError::RequestNotGranted(rule)) => Some(rule.field()),
            _ => errors.first().map(|e| e.field),
        };
        let body = Problem {
            problem_type: format!("urn:vault:problem:{code}"),
            title,
            status: status.as_u16(),
            detail,
            code,
            field,
            errors,
            request_id: current_request_id(),
        };
        let mut response = HttpResponse::build(status);
        response.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        match self {
            Self::Vault(VaultError::Unauthenticated) => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"vault\""),
                ));
            }
            Self::RateLimited(wait) => {
                response.insert_header((header::RETRY_AFTER, retry_after_seconds(*wait)));
            }
            // A spent total never refills: no retry would help, so none is suggested.
            Self::Vault(VaultError::BudgetExhausted {
                retry_after: Some(seconds),
                ..
            }) => {
                response.insert_header((header::RETRY_AFTER, (*seconds).max(1)));
            }
            // Every 503, a shared one from a token fetch included, is worth retrying soon.
            Self::ProxyCallerBusy => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
            }
            _ if status == StatusCode::SERVICE_UNAVAILABLE => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
            }
            _ => {}
        }
        response.body(serde_json::to_vec(&body).unwrap_or_default())
    }
}
