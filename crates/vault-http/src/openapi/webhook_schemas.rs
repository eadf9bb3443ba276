//! The webhook schemas of the document (`/webhooks`, `/webhooks/{id}/deliveries`). The
//! event type names and the limits come from vault-core (`EventType::ALL` and the
//! constants beside it), so a new event type appears here without an edit.

use std::borrow::Cow;
use std::collections::BTreeMap;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{Array, ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};
use vault_core::webhooks::{EventType, MAX_DAYS_AHEAD, MAX_DAYS_AHEAD_VALUE};

/// An event type, by its wire name.
pub(crate) struct WebhookEventType;

impl PartialSchema for WebhookEventType {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(EventType::ALL.map(EventType::as_str)))
            .description(Some(
                "What happened: a credential's or access key's `expiresAt` is near \
                 (`*.expiring`) or past (`credential.expired`); an upstream keeps refusing a \
                 credential (`credential.use_failed`); an OAuth2 connection needs a user to \
                 connect it again, or was (`oauth.*`); a new encryption key became current \
                 (`key.rotated`).",
            ))
            .into()
    }
}

impl ToSchema for WebhookEventType {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("WebhookEventType")
    }
}

/// `daysAhead`: the reminder thresholds.
fn days_ahead() -> Array {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(MAX_DAYS_AHEAD_VALUE)),
        )
        .min_items(Some(1))
        .max_items(Some(MAX_DAYS_AHEAD))
        .description(Some(
            "How many days before an `expiresAt` the `*.expiring` reminders come (each sent \
             once per deadline; a subscription made late hears only of the nearest threshold \
             passed). Kept without repeats, in descending order.",
        ))
        .build()
}

/// `POST /webhooks`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WebhookCreate {
    /// Where deliveries are POSTed: an absolute `https` URL with a host, no user
    /// information and no fragment. Where it resolves to is checked at each delivery, as
    /// for every destination of the vault.
    #[schema(format = "uri", pattern = "^https://", max_length = 2048)]
    url: String,
    /// The event types to deliver: at least one.
    #[schema(min_items = 1)]
    events: Vec<WebhookEventType>,
    /// Default `[30, 7, 1]`.
    #[schema(schema_with = days_ahead)]
    days_ahead: Option<Vec<u16>>,
    /// What it is for; up to 500 characters.
    #[schema(max_length = 500, nullable = false)]
    description: Option<String>,
    /// Default true. False pauses it: events meanwhile are not kept for it, and the
    /// deliveries it already has wait until it is enabled again.
    #[schema(nullable = false)]
    enabled: Option<bool>,
}

/// `PATCH /webhooks/{id}`: any of the create fields; the others stay as they are.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WebhookUpdate {
    #[schema(
        format = "uri",
        pattern = "^https://",
        max_length = 2048,
        nullable = false
    )]
    url: Option<String>,
    #[schema(min_items = 1, nullable = false)]
    events: Option<Vec<WebhookEventType>>,
    #[schema(schema_with = days_ahead)]
    days_ahead: Option<Vec<u16>>,
    /// `null` clears it.
    #[schema(max_length = 500)]
    description: Option<String>,
    #[schema(nullable = false)]
    enabled: Option<bool>,
}

/// A webhook subscription: never its secret.
#[derive(ToSchema)]
#[schema(as = Webhook)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WebhookSchema {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = "uri", pattern = "^https://")]
    url: String,
    description: Option<String>,
    /// Sorted, without repeats.
    events: Vec<WebhookEventType>,
    #[schema(schema_with = days_ahead)]
    days_ahead: Vec<u16>,
    enabled: bool,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
}

/// A subscription just made, or given a new secret, with that secret shown this once.
#[derive(ToSchema)]
pub(crate) struct WebhookWithSecret {
    #[serde(flatten)]
    webhook: WebhookSchema,
    /// The signing secret, as Standard Webhooks libraries take it (`whsec_` and the
    /// base64 of 32 random bytes). Store it now: it is never shown again.
    #[schema(pattern = "^whsec_")]
    secret: String,
}

/// The organization's subscriptions, in the order they were made (at most 32: one page).
#[derive(ToSchema)]
pub(crate) struct WebhookList {
    items: Vec<WebhookSchema>,
}

/// Where a delivery stands: `pending` (waiting for its next attempt), `succeeded` (the
/// receiver answered 2xx) or `failed` (every attempt failed; it can be replayed).
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum WebhookDeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

/// The JSON body POSTed, in the Standard Webhooks shape. It names things (ids, names,
/// dates), never a secret value.
#[derive(ToSchema)]
pub(crate) struct WebhookPayload {
    #[serde(rename = "type")]
    event_type: WebhookEventType,
    #[schema(format = DateTime)]
    timestamp: String,
    /// What the event is about; its fields depend on the type.
    data: BTreeMap<String, serde_json::Value>,
}

/// One event for one subscription, and how sending it went.
#[derive(ToSchema)]
#[schema(as = WebhookDelivery)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WebhookDeliverySchema {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    webhook_id: String,
    /// The `webhook-id` header: the same on every attempt and every replay, so a receiver
    /// can drop repeats.
    #[schema(pattern = "^msg_")]
    message_id: String,
    event_type: WebhookEventType,
    status: WebhookDeliveryStatus,
    /// Attempts made so far.
    attempts: u32,
    /// When the next attempt is due (pending only).
    #[schema(format = DateTime)]
    next_attempt_at: Option<String>,
    #[schema(format = DateTime)]
    last_attempt_at: Option<String>,
    /// The HTTP status the receiver last answered, if it answered.
    response_status: Option<u16>,
    /// Why the last attempt failed (a status, a time-out, a refused address).
    error: Option<String>,
    /// The delivery this one replays.
    #[schema(format = Uuid)]
    replay_of: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    payload: WebhookPayload,
}

/// A page of deliveries, newest first.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WebhookDeliveryList {
    items: Vec<WebhookDeliverySchema>,
    /// Pass as `cursor` for the next page; `null` on the last.
    next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use vault_core::webhooks::{MAX_DESCRIPTION_CHARS, MAX_URL_BYTES};

    use super::*;

    fn schema(name: &str) -> Value {
        let doc = serde_json::to_value(crate::openapi()).expect("document");
        doc["components"]["schemas"][name].clone()
    }

    #[test]
    fn the_event_types_are_the_cores() {
        let names: Vec<&str> = EventType::ALL.map(EventType::as_str).to_vec();
        assert_eq!(schema("WebhookEventType")["enum"], json!(names));
    }

    #[test]
    fn the_limits_are_the_cores() {
        let create = schema("WebhookCreate");
        let properties = &create["properties"];
        assert_eq!(create["required"], json!(["url", "events"]));
        assert_eq!(properties["url"]["maxLength"], json!(MAX_URL_BYTES));
        assert_eq!(properties["url"]["pattern"], "^https://");
        assert_eq!(properties["url"]["format"], "uri");
        assert_eq!(
            properties["description"]["maxLength"],
            json!(MAX_DESCRIPTION_CHARS)
        );
        let days = &properties["daysAhead"];
        assert_eq!(days["maxItems"], json!(MAX_DAYS_AHEAD));
        assert_eq!(days["items"]["minimum"], 1);
        assert_eq!(days["items"]["maximum"], json!(MAX_DAYS_AHEAD_VALUE));
        let update = schema("WebhookUpdate");
        assert!(update.get("required").is_none(), "{update}");
        assert_eq!(update["properties"]["daysAhead"], *days);
    }

    #[test]
    fn only_the_two_secret_responses_carry_a_secret() {
        for name in ["Webhook", "WebhookDelivery", "WebhookPayload"] {
            let properties = schema(name)["properties"].clone();
            let names: Vec<&String> = properties.as_object().expect("properties").keys().collect();
            assert!(
                !names.iter().any(|n| n.to_lowercase().contains("secret")),
                "{name}: {names:?}"
            );
        }
        let with_secret = schema("WebhookWithSecret").to_string();
        assert!(with_secret.contains("^whsec_"), "{with_secret}");
        assert!(
            with_secret.contains("#/components/schemas/Webhook\""),
            "{with_secret}"
        );
    }
}
