//! Checks of webhook subscriptions: round trips, organization scoping, the per-organization
//! limit (under concurrency too), updates, deletion with everything of the subscription,
//! the installation-wide `webhooks_wanting`, and the secret under key rotation. Deliveries
//! and reminders are checked in `webhook_deliveries`.

use futures::future::join_all;
use time::{Duration, OffsetDateTime};
use vault_core::cipher::SealedBlob;
use vault_core::ids::{OrganizationId, WebhookId};
use vault_core::logs::AuditAction;
use vault_core::store::StoreError;
use vault_core::versions::{SealedRef, SealedRow};
use vault_core::webhooks::{
    Delivery, EventType, MAX_WEBHOOKS_PER_ORGANIZATION, Reminder, ReminderSubject, Webhook,
    WebhookEvent, parse_url,
};
use vault_core::{CredentialId, Store};

use super::fixtures::{
    assert_conflict, assert_not_found, events_about, must, new_organization, sample_change_audit,
    sample_sealed, sample_time, sealed_under, unique_key_id, yield_now,
};
use super::sealed::{organization_usage_of, usage, usage_of};

/// A subscription of `organization` with a fresh id and secret and every optional field
/// set (a description, two event types, three thresholds).
///
/// # Panics
/// Never: the URL is valid.
#[must_use]
pub fn sample_webhook(organization: OrganizationId) -> Webhook {
    let now = sample_time();
    Webhook {
        id: WebhookId::new(),
        organization_id: organization,
        url: parse_url("https://hooks.example.com:8443/vault/events?team=payments")
            .expect("a valid webhook URL"),
        description: Some("payments on-call, ünïcode ✓".to_owned()),
        events: vec![
            EventType::CredentialExpiring,
            EventType::OauthReconnectRequired,
        ],
        days_ahead: vec![30, 7, 1],
        enabled: true,
        secret: sample_sealed(),
        created_at: now - Duration::hours(1),
        updated_at: now,
    }
}

/// A pending delivery to `webhook` of a fresh `credential.expiring` event at `at`, due then.
#[must_use]
pub fn sample_delivery(webhook: &Webhook, at: OffsetDateTime) -> Delivery {
    let data = serde_json::json!({
        "credentialId": CredentialId::new(),
        "name": "stripe live key ✓",
        "daysAhead": 7,
    });
    Delivery::new(
        webhook,
        &WebhookEvent::new(EventType::CredentialExpiring, at, data),
    )
}

/// Stores `webhook` with the audit event of its creation.
pub(super) async fn insert_webhook<S: Store>(
    store: &S,
    webhook: &Webhook,
) -> Result<(), StoreError> {
    let audit = sample_change_audit(
        webhook.organization_id,
        AuditAction::WebhookCreate,
        *webhook.id.as_uuid(),
    );
    store.insert_webhook(webhook, &audit).await
}

/// Stores a fresh [`sample_webhook`] of `organization`.
pub(super) async fn stored_webhook<S: Store>(store: &S, organization: OrganizationId) -> Webhook {
    let webhook = sample_webhook(organization);
    must(insert_webhook(store, &webhook).await, "insert_webhook");
    webhook
}

/// Updates `webhook` with its audit event.
pub(super) async fn update_webhook<S: Store>(
    store: &S,
    webhook: &Webhook,
) -> Result<bool, StoreError> {
    let audit = sample_change_audit(
        webhook.organization_id,
        AuditAction::WebhookUpdate,
        *webhook.id.as_uuid(),
    );
    store.update_webhook(webhook, &audit).await
}

/// Deletes a subscription with its audit event.
pub(super) async fn delete_webhook<S: Store>(
    store: &S,
    organization: OrganizationId,
    id: WebhookId,
) -> Result<bool, StoreError> {
    let audit = sample_change_audit(organization, AuditAction::WebhookDelete, *id.as_uuid());
    store.delete_webhook(organization, id, &audit).await
}

async fn get<S: Store>(store: &S, organization: OrganizationId, id: WebhookId) -> Option<Webhook> {
    must(store.get_webhook(organization, id).await, "get_webhook")
}

/// The audit actions recorded about `id`, newest first.
async fn actions_about<S: Store>(
    store: &S,
    organization: OrganizationId,
    id: WebhookId,
) -> Vec<AuditAction> {
    events_about(store, organization, *id.as_uuid())
        .await
        .iter()
        .map(|e| e.action)
        .collect()
}

/// A subscription reads back field for field, alone and in its organization's list (in id
/// order), with its audit event; a bare one (disabled, no description) too. Another
/// organization sees neither; an id is taken once, in any organization; a subscription
/// of no organization is refused.
pub async fn webhook_round_trip_and_isolation<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let full = stored_webhook(store, org).await;
    let bare = Webhook {
        id: WebhookId::new(),
        description: None,
        events: vec![EventType::KeyRotated],
        days_ahead: vec![365],
        enabled: false,
        ..sample_webhook(org)
    };
    must(insert_webhook(store, &bare).await, "insert_webhook");

    for webhook in [&full, &bare] {
        assert_eq!(get(store, org, webhook.id).await.as_ref(), Some(webhook));
        assert_eq!(
            get(store, other, webhook.id).await,
            None,
            "another organization's"
        );
    }
    let listed = must(store.list_webhooks(org).await, "list_webhooks");
    assert_eq!(
        listed,
        [full.clone(), bare.clone()],
        "list_webhooks, in id order"
    );
    assert!(
        must(store.list_webhooks(other).await, "list_webhooks").is_empty(),
        "another organization lists none of them"
    );
    assert_eq!(
        actions_about(store, org, full.id).await,
        [AuditAction::WebhookCreate],
        "the creation's audit event"
    );

    assert_conflict(insert_webhook(store, &full).await, "the same id twice");
    let elsewhere = Webhook {
        organization_id: other,
        ..full.clone()
    };
    assert_conflict(
        insert_webhook(store, &elsewhere).await,
        "the same id in another organization",
    );
    assert_not_found(
        insert_webhook(store, &sample_webhook(OrganizationId::new())).await,
        "a subscription of an organization that does not exist",
    );
}

/// An organization has at most [`MAX_WEBHOOKS_PER_ORGANIZATION`] subscriptions: one more
/// is refused with `Conflict` (writing neither it nor its audit event), others'
/// organizations are not limited by it, a deleted one makes room; and inserts racing for
/// the last places never pass the limit together.
pub async fn webhooks_per_organization_are_capped<S: Store>(store: &S) {
    let org = new_organization(store).await;
    for _ in 0..MAX_WEBHOOKS_PER_ORGANIZATION {
        stored_webhook(store, org).await;
    }
    let refused = sample_webhook(org);
    assert_conflict(insert_webhook(store, &refused).await, "one past the limit");
    assert_eq!(get(store, org, refused.id).await, None, "the refused one");
    assert!(
        actions_about(store, org, refused.id).await.is_empty(),
        "a refused insert wrote its audit event"
    );
    let other = new_organization(store).await;
    stored_webhook(store, other).await;
    let listed = must(store.list_webhooks(org).await, "list_webhooks");
    assert_eq!(listed.len(), MAX_WEBHOOKS_PER_ORGANIZATION);
    assert!(must(
        delete_webhook(store, org, listed[0].id).await,
        "delete_webhook"
    ));
    must(
        insert_webhook(store, &refused).await,
        "an insert once one was deleted",
    );

    // Two places left, eight racers: two win.
    let racing = new_organization(store).await;
    for _ in 2..MAX_WEBHOOKS_PER_ORGANIZATION {
        stored_webhook(store, racing).await;
    }
    let racers = (0..8).map(|_| async {
        yield_now().await;
        insert_webhook(store, &sample_webhook(racing)).await
    });
    let results = join_all(racers).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(()) | Err(StoreError::Conflict))),
        "racing inserts: {results:?}"
    );
    assert_eq!(won, 2, "racing inserts for two places: {results:?}");
    let listed = must(store.list_webhooks(racing).await, "list_webhooks");
    assert_eq!(listed.len(), MAX_WEBHOOKS_PER_ORGANIZATION);
}

/// An update replaces every field but the id, the organization and the creation time,
/// with its audit event; one naming a missing subscription, or one of another
/// organization, writes nothing and returns false.
pub async fn update_webhook_replaces_fields<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let webhook = stored_webhook(store, org).await;
    let changed = Webhook {
        url: parse_url("https://other.example.org/hook").expect("a valid webhook URL"),
        description: None,
        events: vec![EventType::CredentialExpired, EventType::KeyRotated],
        days_ahead: vec![14],
        enabled: false,
        secret: sample_sealed(),
        created_at: webhook.created_at - Duration::days(3),
        updated_at: webhook.updated_at + Duration::minutes(1),
        ..webhook.clone()
    };
    assert!(must(
        update_webhook(store, &changed).await,
        "update_webhook"
    ));
    let expected = Webhook {
        created_at: webhook.created_at,
        ..changed.clone()
    };
    assert_eq!(get(store, org, webhook.id).await, Some(expected.clone()));
    assert_eq!(
        actions_about(store, org, webhook.id).await,
        [AuditAction::WebhookUpdate, AuditAction::WebhookCreate]
    );

    let missing = Webhook {
        id: WebhookId::new(),
        ..changed.clone()
    };
    let elsewhere = Webhook {
        organization_id: other,
        enabled: true,
        ..changed
    };
    for (refused, what) in [
        (&missing, "a missing subscription"),
        (&elsewhere, "another organization's"),
    ] {
        assert!(
            !must(update_webhook(store, refused).await, "update_webhook"),
            "an update of {what} wrote"
        );
    }
    assert_eq!(get(store, org, webhook.id).await, Some(expected));
    assert_eq!(actions_about(store, org, webhook.id).await.len(), 2);
    assert!(actions_about(store, other, webhook.id).await.is_empty());
}

/// Deleting a subscription deletes its deliveries and reminders with it, and only its own,
/// with its audit event; another organization cannot delete it, and a second delete finds
/// nothing.
pub async fn delete_webhook_takes_its_deliveries_and_reminders<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let doomed = stored_webhook(store, org).await;
    let kept = stored_webhook(store, org).await;
    let subject = ReminderSubject::Credential(CredentialId::new());
    let mut deliveries = Vec::new();
    let mut reminders = Vec::new();
    for webhook in [&doomed, &kept] {
        let delivery = sample_delivery(webhook, sample_time());
        must(
            store
                .insert_deliveries(std::slice::from_ref(&delivery), None)
                .await,
            "insert_deliveries",
        );
        let reminder = Reminder {
            webhook_id: webhook.id,
            subject,
            expires_at: sample_time() + Duration::days(7),
            days_ahead: 7,
        };
        let reminded = sample_delivery(webhook, sample_time());
        assert!(must(
            store.insert_reminder(&reminder, &reminded).await,
            "insert_reminder"
        ));
        deliveries.push((delivery, reminded));
        reminders.push(reminder);
    }

    assert!(
        !must(
            delete_webhook(store, other, doomed.id).await,
            "delete_webhook"
        ),
        "another organization deleted it"
    );
    assert!(get(store, org, doomed.id).await.is_some());
    assert!(must(
        delete_webhook(store, org, doomed.id).await,
        "delete_webhook"
    ));
    assert_eq!(get(store, org, doomed.id).await, None);
    assert_eq!(
        actions_about(store, org, doomed.id).await,
        [AuditAction::WebhookDelete, AuditAction::WebhookCreate]
    );
    assert!(
        !must(
            delete_webhook(store, org, doomed.id).await,
            "delete_webhook"
        ),
        "a second delete found it"
    );

    for (webhook, (delivery, reminded), survives) in [
        (&doomed, &deliveries[0], false),
        (&kept, &deliveries[1], true),
    ] {
        let listed = must(
            store.list_deliveries(org, webhook.id, None, 100).await,
            "list_deliveries",
        );
        let expected = if survives {
            vec![reminded.clone(), delivery.clone()]
        } else {
            Vec::new()
        };
        assert_eq!(
            listed, expected,
            "deliveries after a delete (kept: {survives})"
        );
        let got = must(
            store.get_delivery(org, webhook.id, delivery.id).await,
            "get_delivery",
        );
        assert_eq!(got.is_some(), survives);
    }
    assert_eq!(
        must(
            store.recorded_reminders(&reminders).await,
            "recorded_reminders"
        ),
        [reminders[1]],
        "only the kept subscription's reminder is still recorded"
    );
}

/// `webhooks_wanting` returns every enabled subscription, of every organization, taking one
/// of the types, in id order; none for no type.
pub async fn webhooks_wanting_returns_enabled_takers_of_every_organization<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let with = |organization, events: Vec<EventType>, enabled| Webhook {
        events,
        enabled,
        ..sample_webhook(organization)
    };
    let expiring = with(org, vec![EventType::CredentialExpiring], true);
    let rotated = with(org, vec![EventType::KeyRotated], true);
    let disabled = with(org, vec![EventType::CredentialExpiring], false);
    let both = with(
        other,
        vec![EventType::CredentialExpiring, EventType::KeyRotated],
        true,
    );
    let mine = [&expiring, &rotated, &disabled, &both];
    for webhook in mine {
        must(insert_webhook(store, webhook).await, "insert_webhook");
    }
    for (types, expected) in [
        (
            vec![EventType::CredentialExpiring],
            vec![expiring.clone(), both.clone()],
        ),
        (
            vec![EventType::KeyRotated, EventType::CredentialExpiring],
            vec![expiring.clone(), rotated.clone(), both.clone()],
        ),
        (vec![EventType::OauthReconnected], Vec::new()),
        (Vec::new(), Vec::new()),
    ] {
        let wanting: Vec<Webhook> = must(store.webhooks_wanting(&types).await, "webhooks_wanting")
            .into_iter()
            .filter(|w| mine.iter().any(|m| m.id == w.id))
            .collect();
        assert_eq!(wanting, expected, "webhooks_wanting {types:?}");
    }
}

/// A subscription's secret counts for its organization only, and `replace_sealed` moves it
/// only while the row holds the secret read: not when named in another organization, nor
/// after an update gave it a new secret, nor once it is deleted; nothing else of the row
/// changes.
pub async fn webhook_secrets_are_rewrapped<S: Store>(store: &S) {
    let (old, new) = (unique_key_id("old"), unique_key_id("new"));
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let webhook = Webhook {
        secret: sealed_under(&old),
        ..sample_webhook(org)
    };
    must(insert_webhook(store, &webhook).await, "insert_webhook");
    assert_eq!(usage_of(store, &old).await, usage(&old, 0, 0, 0, 0, 1));
    assert_eq!(
        organization_usage_of(store, org, &old).await,
        usage(&old, 0, 0, 0, 0, 1)
    );
    assert_eq!(organization_usage_of(store, other, &old).await, None);

    let row = |organization_id, sealed: &SealedBlob| SealedRow {
        reference: SealedRef::Webhook {
            organization_id,
            id: webhook.id,
        },
        sealed: sealed.clone(),
    };
    let replace = async |row: SealedRow, new: &SealedBlob| {
        must(store.replace_sealed(&row, new).await, "replace_sealed")
    };
    assert!(
        !replace(row(other, &webhook.secret), &sealed_under(&new)).await,
        "replace_sealed wrote a webhook named in another organization"
    );
    let replacement = sealed_under(&new);
    assert!(
        replace(row(org, &webhook.secret), &replacement).await,
        "replace_sealed of an unchanged webhook did not write"
    );
    let rewrapped = Webhook {
        secret: replacement.clone(),
        ..webhook.clone()
    };
    assert_eq!(get(store, org, webhook.id).await.as_ref(), Some(&rewrapped));
    assert_eq!(usage_of(store, &old).await, None, "old key");
    assert_eq!(usage_of(store, &new).await, usage(&new, 0, 0, 0, 0, 1));
    assert!(
        !replace(row(org, &webhook.secret), &sealed_under(&old)).await,
        "replace_sealed of a webhook that changed since it was read wrote"
    );

    // A new secret after the rotation read the row: it stays.
    let renewed = Webhook {
        secret: sealed_under(&new),
        ..rewrapped
    };
    assert!(must(
        update_webhook(store, &renewed).await,
        "update_webhook"
    ));
    assert!(
        !replace(row(org, &replacement), &sealed_under(&old)).await,
        "replace_sealed overwrote a secret given since"
    );
    assert_eq!(get(store, org, webhook.id).await, Some(renewed.clone()));

    assert!(must(
        delete_webhook(store, org, webhook.id).await,
        "delete_webhook"
    ));
    assert_eq!(
        usage_of(store, &new).await,
        None,
        "new key after the delete"
    );
    assert!(
        !replace(row(org, &renewed.secret), &sealed_under(&old)).await,
        "replace_sealed of a deleted webhook wrote"
    );
}
