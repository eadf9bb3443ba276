//! `/webhooks`: subscriptions to the vault's events (create, list, read, change, delete,
//! a new signing secret) and `/webhooks/{id}/deliveries` (what was sent, and sending one
//! again). The signing secret is in the create and rotate-secret responses and nowhere
//! else, ever.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::web::{Data, Path, Payload, Query};
use actix_web::{HttpRequest, HttpResponse};
use secrecy::ExposeSecret as _;
use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use vault_core::vault::WebhookWithSecret;
use vault_core::webhooks::{Delivery, Webhook, WebhookInput};
use vault_core::{Store, Vault, WebhookDeliveryId, WebhookId};

use crate::ApiConfig;
use crate::auth::authenticate;
use crate::body::{Fields, read_json_body, reject_unknown};
use crate::error::ApiError;
use crate::params::{ListView, parse_id, parse_limit};

/// The fields of `POST /webhooks` and `PATCH /webhooks/{id}`.
const WEBHOOK_FIELDS: [&str; 5] = ["url", "events", "daysAhead", "description", "enabled"];

/// A subscription as every endpoint shows it: never its secret.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WebhookView<'a> {
    id: WebhookId,
    url: &'a str,
    description: Option<&'a str>,
    events: Vec<&'static str>,
    days_ahead: &'a [u16],
    enabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

impl<'a> WebhookView<'a> {
    fn new(webhook: &'a Webhook) -> Self {
        Self {
            id: webhook.id,
            url: webhook.url.as_str(),
            description: webhook.description.as_deref(),
            events: webhook.events.iter().map(|e| e.as_str()).collect(),
            days_ahead: &webhook.days_ahead,
            enabled: webhook.enabled,
            created_at: webhook.created_at,
            updated_at: webhook.updated_at,
        }
    }
}

/// A subscription just made or given a new secret, with that secret: shown this once.
#[derive(Serialize)]
struct WithSecretView<'a> {
    #[serde(flatten)]
    webhook: WebhookView<'a>,
    secret: &'a str,
}

/// The response carrying a secret: never cached by the client or a proxy on the way.
fn with_secret(
    mut response: actix_web::HttpResponseBuilder,
    made: &WebhookWithSecret,
) -> HttpResponse {
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(WithSecretView {
            webhook: WebhookView::new(&made.webhook),
            secret: made.secret.expose_secret(),
        })
}

#[derive(Serialize)]
struct WebhookList<'a> {
    items: Vec<WebhookView<'a>>,
}

/// A delivery: what was sent (the payload holds names and dates, never a secret) and how
/// sending it went.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeliveryView<'a> {
    id: WebhookDeliveryId,
    webhook_id: WebhookId,
    message_id: &'a str,
    event_type: &'static str,
    status: &'static str,
    attempts: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    next_attempt_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    last_attempt_at: Option<OffsetDateTime>,
    response_status: Option<u16>,
    error: Option<&'a str>,
    replay_of: Option<WebhookDeliveryId>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    payload: &'a Value,
}

impl<'a> DeliveryView<'a> {
    fn new(delivery: &'a Delivery) -> Self {
        Self {
            id: delivery.id,
            webhook_id: delivery.webhook_id,
            message_id: &delivery.message_id,
            event_type: delivery.event_type.as_str(),
            status: delivery.status.as_str(),
            attempts: delivery.attempts,
            next_attempt_at: delivery.next_attempt_at,
            last_attempt_at: delivery.last_attempt_at,
            response_status: delivery.response_status,
            error: delivery.error.as_deref(),
            replay_of: delivery.replay_of,
            created_at: delivery.created_at,
            payload: &delivery.payload,
        }
    }
}

/// Reads a create or update body field by field, naming every field of the wrong type.
/// What the values must be (an `https` URL, known event types, 1 to 5 days from 1 to 365)
/// is the core's to check, with the same field names.
fn webhook_input(map: Map<String, Value>) -> Result<WebhookInput, ApiError> {
    reject_unknown(&map, &WEBHOOK_FIELDS, "")?;
    let mut fields = Fields::new(map);
    let input = WebhookInput {
        url: fields.string("url"),
        events: fields.string_array("events"),
        description: fields.nullable_string("description"),
        days_ahead: fields.integer_array("daysAhead"),
        enabled: fields.boolean("enabled"),
    };
    if fields.errors.is_empty() {
        Ok(input)
    } else {
        Err(ApiError::Invalid(fields.errors))
    }
}

#[utoipa::path(
    post,
    path = "/webhooks",
    operation_id = "createWebhook",
    summary = "Subscribe to events",
    tag = "webhooks",
    description = "Subscribes the organization to events: each event of the listed types is POSTed to `url` (https only), signed as the Standard Webhooks specification says with the secret returned in `secret`. The secret is shown in this response only, never again (`POST /webhooks/{id}/rotate-secret` replaces it): store it now. Without `daysAhead`, expiry reminders come 30, 7 and 1 days ahead. An organization has at most 32 subscriptions (past that, a 422 on `url`). Needs `webhooks:manage`. Audited.",
    request_body(content = crate::openapi::WebhookCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Subscribed; store `secret` now, it is never shown again", body = crate::openapi::WebhookWithSecret,
            headers(("Location" = String, description = "The subscription's URL"))),
        (status = 400, response = crate::openapi::ProblemResponse),
        (status = 403, response = crate::openapi::ProblemResponse),
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
    let input = webhook_input(map)?;
    let made = vault.create_webhook(&who, &input).await?;
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("/webhooks/{}", made.webhook.id)));
    Ok(with_secret(response, &made))
}

#[utoipa::path(
    get,
    path = "/webhooks",
    operation_id = "listWebhooks",
    summary = "List subscriptions",
    tag = "webhooks",
    description = "The organization's subscriptions, in the order they were made: one page, as there are at most 32. Never their secrets. Needs `webhooks:manage`.",
    responses(
        (status = 200, description = "The subscriptions", body = crate::openapi::WebhookList),
        (status = 403, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn list<S: Store>(
    req: HttpRequest,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let webhooks = vault.webhooks(&who).await?;
    Ok(HttpResponse::Ok().json(WebhookList {
        items: webhooks.iter().map(WebhookView::new).collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/webhooks/{id}",
    operation_id = "getWebhook",
    summary = "Read a subscription",
    tag = "webhooks",
    description = "One subscription (never its secret). Needs `webhooks:manage`.",
    params(("id" = String, Path, description = "The subscription id (UUID)")),
    responses(
        (status = 200, description = "The subscription", body = crate::openapi::WebhookSchema),
        (status = 403, response = crate::openapi::ProblemResponse),
        (status = 404, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn get<S: Store>(
    req: HttpRequest,
    id: Path<String>,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let webhook = vault.webhook(&who, parse_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(WebhookView::new(&webhook)))
}

#[utoipa::path(
    patch,
    path = "/webhooks/{id}",
    operation_id = "updateWebhook",
    summary = "Change a subscription",
    tag = "webhooks",
    description = "Changes the fields given (any of the create fields; `description: null` clears it). `enabled: false` holds deliveries back until it is enabled again. The secret stays as it is. Needs `webhooks:manage`. Audited.",
    params(("id" = String, Path, description = "The subscription id (UUID)")),
    request_body(content = crate::openapi::WebhookUpdate, content_type = "application/json"),
    responses(
        (status = 200, description = "The subscription as it is now", body = crate::openapi::WebhookSchema),
        (status = 400, response = crate::openapi::ProblemResponse),
        (status = 403, response = crate::openapi::ProblemResponse),
        (status = 404, response = crate::openapi::ProblemResponse),
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
    let input = webhook_input(map)?;
    let webhook = vault.update_webhook(&who, id, &input).await?;
    Ok(HttpResponse::Ok().json(WebhookView::new(&webhook)))
}

#[utoipa::path(
    delete,
    path = "/webhooks/{id}",
    operation_id = "deleteWebhook",
    summary = "Delete a subscription",
    tag = "webhooks",
    description = "Deletes a subscription with its deliveries: nothing more is sent to it. Needs `webhooks:manage`. Audited.",
    params(("id" = String, Path, description = "The subscription id (UUID)")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, response = crate::openapi::ProblemResponse),
        (status = 404, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn delete<S: Store>(
    req: HttpRequest,
    id: Path<String>,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    vault.delete_webhook(&who, parse_id(&id)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    post,
    path = "/webhooks/{id}/rotate-secret",
    operation_id = "rotateWebhookSecret",
    summary = "Rotate a subscription's secret",
    tag = "webhooks",
    description = "Replaces the subscription's signing secret with a new one, returned in `secret` in this response only, never again: store it now. Every delivery from now on, retries included, is signed with it; the old one stops signing at once. Needs `webhooks:manage`. Audited (as `webhook.update`).",
    params(("id" = String, Path, description = "The subscription id (UUID)")),
    responses(
        (status = 200, description = "The new secret; store it now, it is never shown again", body = crate::openapi::WebhookWithSecret),
        (status = 403, response = crate::openapi::ProblemResponse),
        (status = 404, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn rotate_secret<S: Store>(
    req: HttpRequest,
    id: Path<String>,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let rotated = vault.rotate_webhook_secret(&who, parse_id(&id)?).await?;
    Ok(with_secret(HttpResponse::Ok(), &rotated))
}

#[utoipa::path(
    get,
    path = "/webhooks/{id}/deliveries",
    operation_id = "listWebhookDeliveries",
    summary = "List a subscription's deliveries",
    tag = "webhooks",
    description = "The subscription's deliveries, newest first: each event sent (or to be sent) to it, its payload, and how its attempts went. A failed attempt is retried over about a day before the delivery is `failed`. Needs `webhooks:manage`.",
    params(
        ("id" = String, Path, description = "The subscription id (UUID)"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Page size (default 50)"),
        ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page", body = crate::openapi::WebhookDeliveryList),
        (status = 400, response = crate::openapi::ProblemResponse),
        (status = 403, response = crate::openapi::ProblemResponse),
        (status = 404, response = crate::openapi::ProblemResponse),
        (status = 422, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn deliveries<S: Store>(
    req: HttpRequest,
    id: Path<String>,
    query: Query<BTreeMap<String, String>>,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let id = parse_id(&id)?;
    let mut query = query.into_inner();
    let limit = parse_limit(query.remove("limit"))?;
    let cursor = query.remove("cursor");
    if let Some(unknown) = query.keys().next() {
        return Err(ApiError::UnknownField(unknown.clone()));
    }
    let page = vault
        .webhook_deliveries(&who, id, limit, cursor.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(ListView {
        items: page.items.iter().map(DeliveryView::new).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(
    post,
    path = "/webhooks/{id}/deliveries/{deliveryId}/replay",
    operation_id = "replayWebhookDelivery",
    summary = "Replay a delivery",
    tag = "webhooks",
    description = "Sends a delivery again: a new delivery of the same message (the same `webhook-id` header, so a receiver that took the first can drop it), due now, with the whole retry schedule ahead of it. Answers at once with the new delivery, pending; list the deliveries to see how it went. Needs `webhooks:manage`. Audited.",
    params(
        ("id" = String, Path, description = "The subscription id (UUID)"),
        ("deliveryId" = String, Path, description = "The delivery id (UUID)"),
    ),
    responses(
        (status = 202, description = "The new delivery, queued", body = crate::openapi::WebhookDelivery),
        (status = 403, response = crate::openapi::ProblemResponse),
        (status = 404, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn replay<S: Store>(
    req: HttpRequest,
    path: Path<(String, String)>,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let (id, delivery) = path.into_inner();
    let (id, delivery) = (parse_id(&id)?, parse_id(&delivery)?);
    let replayed = vault.replay_webhook_delivery(&who, id, delivery).await?;
    Ok(HttpResponse::Accepted().json(DeliveryView::new(&replayed)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use vault_core::Patch;

    use super::*;

    fn parse(body: Value) -> Result<WebhookInput, ApiError> {
        match body {
            Value::Object(map) => webhook_input(map),
            _ => unreachable!("test bodies are objects"),
        }
    }

    fn invalid_fields(body: Value) -> Vec<String> {
        match parse(body) {
            Err(ApiError::Invalid(errors)) => {
                errors.errors().iter().map(|e| e.field.clone()).collect()
            }
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn a_body_is_read_field_by_field() {
        let input = parse(json!({
            "url": "https://hooks.example.com/vault",
            "events": ["credential.expiring"],
            "daysAhead": [14, 2],
            "description": "ops",
            "enabled": false,
        }))
        .expect("valid");
        assert_eq!(
            input.url.as_deref(),
            Some("https://hooks.example.com/vault")
        );
        assert_eq!(input.events, Some(vec!["credential.expiring".to_owned()]));
        assert_eq!(input.days_ahead, Some(vec![14, 2]));
        assert_eq!(input.description, Patch::Value("ops".to_owned()));
        assert_eq!(input.enabled, Some(false));
        let empty = parse(json!({})).expect("valid");
        assert_eq!(empty, WebhookInput::default());
        let cleared = parse(json!({"description": null})).expect("valid");
        assert_eq!(cleared.description, Patch::Null);
    }

    #[test]
    fn every_field_of_the_wrong_type_is_named_together() {
        assert_eq!(
            invalid_fields(json!({
                "url": 1,
                "events": "credential.expiring",
                "daysAhead": [1, 2.5],
                "description": 3,
                "enabled": "yes",
            })),
            ["url", "events", "description", "daysAhead", "enabled"]
        );
        assert_eq!(invalid_fields(json!({"daysAhead": 7})), ["daysAhead"]);
        assert_eq!(invalid_fields(json!({"enabled": null})), ["enabled"]);
        assert_eq!(invalid_fields(json!({"events": [1]})), ["events"]);
    }

    #[test]
    fn an_unknown_field_is_a_400_naming_it() {
        assert!(matches!(
            parse(json!({"url": "https://a.example", "secret": "whsec_x"})),
            Err(ApiError::UnknownField(name)) if name == "secret"
        ));
    }
}
