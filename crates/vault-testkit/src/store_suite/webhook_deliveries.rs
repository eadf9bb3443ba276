//! Checks of webhook deliveries and expiry reminders: round trips, all-or-none inserts,
//! the sending job's `due_deliveries`, attempts, listing by cursor, and reminders sent once
//! however many replicas race.

use futures::future::join_all;
use time::{Duration, OffsetDateTime, macros::datetime};
use vault_core::logs::AuditAction;
use vault_core::webhooks::{
    AttemptResult, Delivery, DeliveryStatus, Reminder, ReminderSubject, Webhook,
};
use vault_core::{AccessKeyId, CredentialId, OrganizationId, Store, WebhookDeliveryId};

use super::fixtures::{
    assert_conflict, events_about, must, new_organization, sample_change_audit, sample_time,
    yield_now,
};
use super::webhooks::{sample_delivery, sample_webhook, stored_webhook, update_webhook};

/// How many callers race in the concurrency check.
const RACERS: usize = 8;

async fn insert<S: Store>(store: &S, deliveries: &[Delivery]) {
    must(
        store.insert_deliveries(deliveries, None).await,
        "insert_deliveries",
    );
}

async fn get<S: Store>(store: &S, delivery: &Delivery) -> Option<Delivery> {
    must(
        store
            .get_delivery(delivery.organization_id, delivery.webhook_id, delivery.id)
            .await,
        "get_delivery",
    )
}

/// `delivery` replayed after a failed attempt: every optional field set.
fn replayed_after_failure(delivery: &Delivery) -> Delivery {
    let at = delivery.created_at + Duration::minutes(1);
    Delivery {
        id: WebhookDeliveryId::new(),
        status: DeliveryStatus::Failed,
        attempts: 8,
        next_attempt_at: None,
        last_attempt_at: Some(at),
        response_status: Some(503),
        error: Some("the receiver answered 503 ✓".to_owned()),
        replay_of: Some(delivery.id),
        ..delivery.clone()
    }
}

/// Deliveries read back field for field, with a replay's audit event; a batch with an id
/// taken, or naming a subscription that does not exist, writes none of its deliveries.
pub async fn deliveries_round_trip_and_are_inserted_all_or_none<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let webhook = stored_webhook(store, org).await;
    let first = sample_delivery(&webhook, sample_time());
    let full = replayed_after_failure(&first);
    let audit = sample_change_audit(org, AuditAction::WebhookReplay, *full.id.as_uuid());
    must(
        store
            .insert_deliveries(&[first.clone(), full.clone()], Some(&audit))
            .await,
        "insert_deliveries",
    );
    for delivery in [&first, &full] {
        assert_eq!(get(store, delivery).await.as_ref(), Some(delivery));
    }
    let events = events_about(store, org, *full.id.as_uuid()).await;
    assert_eq!(events.len(), 1, "the replay's audit event");
    assert_eq!(events[0].action, AuditAction::WebhookReplay);

    let fresh = sample_delivery(&webhook, sample_time());
    assert_conflict(
        store
            .insert_deliveries(&[fresh.clone(), first.clone()], None)
            .await,
        "a batch with an id taken",
    );
    let orphan = sample_delivery(&sample_webhook(org), sample_time());
    assert!(
        store
            .insert_deliveries(&[fresh.clone(), orphan], None)
            .await
            .is_err(),
        "a delivery to a subscription that does not exist was stored"
    );
    assert_eq!(
        get(store, &fresh).await,
        None,
        "part of a refused batch was written"
    );
    must(
        store.insert_deliveries(&[], None).await,
        "insert_deliveries of none",
    );
}

/// `due_deliveries` returns pending deliveries due at `now` (not later ones, not done ones)
/// of enabled subscriptions only, the longest waiting first, at most `limit`.
pub async fn due_deliveries_honour_status_time_enabled_order_and_limit<S: Store>(store: &S) {
    // Long ago: no other check's delivery is due then.
    let now = datetime!(2001-02-03 04:05:06.789012 UTC);
    let org = new_organization(store).await;
    let enabled = stored_webhook(store, org).await;
    let disabled = Webhook {
        enabled: false,
        ..sample_webhook(org)
    };
    must(
        super::webhooks::insert_webhook(store, &disabled).await,
        "insert_webhook",
    );
    // Inserted out of order: the order is the due time's, not the id's.
    let second = sample_delivery(&enabled, now - Duration::hours(2));
    let third = sample_delivery(&enabled, now - Duration::seconds(1));
    let first = sample_delivery(&enabled, now - Duration::hours(3));
    let fourth = sample_delivery(&enabled, now);
    let later = sample_delivery(&enabled, now + Duration::microseconds(1));
    let succeeded = Delivery {
        status: DeliveryStatus::Succeeded,
        ..sample_delivery(&enabled, now - Duration::days(1))
    };
    let failed = replayed_after_failure(&sample_delivery(&enabled, now - Duration::days(1)));
    let paused = sample_delivery(&disabled, now - Duration::days(2));
    let all = [
        second.clone(),
        third.clone(),
        first.clone(),
        fourth.clone(),
        later,
        succeeded,
        failed,
        paused.clone(),
    ];
    insert(store, &all).await;
    let mine = |due: Vec<Delivery>| -> Vec<Delivery> {
        due.into_iter()
            .filter(|d| all.iter().any(|m| m.id == d.id))
            .collect()
    };

    let due = mine(must(store.due_deliveries(now, 100).await, "due_deliveries"));
    let in_order = vec![first.clone(), second.clone(), third.clone(), fourth.clone()];
    assert_eq!(due, in_order, "due deliveries, longest waiting first");
    let limited = mine(must(store.due_deliveries(now, 2).await, "due_deliveries"));
    assert_eq!(limited, in_order[..2], "due deliveries, limit 2");
    assert!(must(store.due_deliveries(now, 0).await, "due_deliveries").is_empty());

    // Enabled again, its waiting delivery comes first.
    let resumed = Webhook {
        enabled: true,
        ..disabled
    };
    assert!(must(
        update_webhook(store, &resumed).await,
        "update_webhook"
    ));
    let due = mine(must(store.due_deliveries(now, 100).await, "due_deliveries"));
    assert_eq!(
        due.first(),
        Some(&paused),
        "the resumed subscription's delivery"
    );
    assert_eq!(due.len(), 5);
}

/// `record_attempt` writes every field an attempt changes (a failure's status, error and
/// next time, then a success's, clearing them), and returns false for a missing delivery.
pub async fn record_attempt_updates_every_field<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let webhook = stored_webhook(store, org).await;
    let delivery = sample_delivery(&webhook, sample_time());
    insert(store, std::slice::from_ref(&delivery)).await;

    let failed_at = sample_time() + Duration::seconds(1);
    let failure = AttemptResult {
        response_status: Some(500),
        error: Some("the receiver answered 500".to_owned()),
    };
    let record = delivery.after_attempt(failed_at, &failure);
    assert!(must(store.record_attempt(&record).await, "record_attempt"));
    let after_failure = Delivery {
        attempts: 1,
        status: DeliveryStatus::Pending,
        next_attempt_at: record.next_attempt_at,
        last_attempt_at: Some(failed_at),
        response_status: Some(500),
        error: failure.error.clone(),
        ..delivery.clone()
    };
    assert!(after_failure.next_attempt_at.is_some());
    assert_eq!(get(store, &delivery).await, Some(after_failure.clone()));

    let succeeded_at = failed_at + Duration::seconds(5);
    let success = AttemptResult {
        response_status: Some(204),
        error: None,
    };
    let record = after_failure.after_attempt(succeeded_at, &success);
    assert!(must(store.record_attempt(&record).await, "record_attempt"));
    let after_success = Delivery {
        attempts: 2,
        status: DeliveryStatus::Succeeded,
        next_attempt_at: None,
        last_attempt_at: Some(succeeded_at),
        response_status: Some(204),
        error: None,
        ..after_failure
    };
    assert_eq!(get(store, &delivery).await, Some(after_success));

    let missing = sample_delivery(&webhook, sample_time()).after_attempt(succeeded_at, &success);
    assert!(
        !must(store.record_attempt(&missing).await, "record_attempt"),
        "an attempt of a missing delivery was recorded"
    );
}

/// A subscription's deliveries list newest first, a page at a time before a cursor, and
/// only its own in its own organization; `get_delivery` is scoped the same way.
pub async fn deliveries_list_newest_first_by_cursor<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let webhook = stored_webhook(store, org).await;
    let sibling = stored_webhook(store, org).await;
    let foreign = stored_webhook(store, other).await;
    let mut mine: Vec<Delivery> = (0..5)
        .map(|_| sample_delivery(&webhook, sample_time()))
        .collect();
    insert(store, &mine).await;
    insert(store, &[sample_delivery(&sibling, sample_time())]).await;
    insert(store, &[sample_delivery(&foreign, sample_time())]).await;
    mine.reverse();

    let list = |organization: OrganizationId, webhook: &Webhook, before, limit| {
        store.list_deliveries(organization, webhook.id, before, limit)
    };
    assert_eq!(
        must(list(org, &webhook, None, 100).await, "list_deliveries"),
        mine
    );
    let mut paged = Vec::new();
    let mut before = None;
    loop {
        let page = must(list(org, &webhook, before, 2).await, "list_deliveries");
        assert!(page.len() <= 2, "a page longer than its limit");
        let done = page.len() < 2;
        before = page.last().map(|d| d.id);
        paged.extend(page);
        if done {
            break;
        }
    }
    assert_eq!(paged, mine, "pages of 2, each before the last one's end");
    assert!(must(list(other, &webhook, None, 100).await, "list_deliveries").is_empty());
    assert!(must(list(org, &foreign, None, 100).await, "list_deliveries").is_empty());

    let one = &mine[0];
    for (organization, of, found) in [
        (org, &webhook, true),
        (org, &sibling, false),
        (other, &webhook, false),
    ] {
        let got = must(
            store.get_delivery(organization, of.id, one.id).await,
            "get_delivery",
        );
        assert_eq!(
            got.is_some(),
            found,
            "get_delivery scoped by organization and subscription"
        );
    }
}

fn reminder(webhook: &Webhook, subject: ReminderSubject, expires_at: OffsetDateTime) -> Reminder {
    Reminder {
        webhook_id: webhook.id,
        subject,
        expires_at,
        days_ahead: 7,
    }
}

/// A reminder is recorded once, with its delivery; recording it again adds nothing and
/// returns false. Another threshold, deadline, kind of subject or subscription is another
/// reminder; `recorded_reminders` returns exactly those recorded, in the order asked.
pub async fn reminders_are_recorded_once<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let webhook = stored_webhook(store, org).await;
    let sibling = stored_webhook(store, org).await;
    let id = CredentialId::new();
    let deadline = sample_time() + Duration::days(7);
    let base = reminder(&webhook, ReminderSubject::Credential(id), deadline);
    assert!(
        must(
            store.recorded_reminders(&[base]).await,
            "recorded_reminders"
        )
        .is_empty()
    );

    let delivery = sample_delivery(&webhook, sample_time());
    assert!(must(
        store.insert_reminder(&base, &delivery).await,
        "insert_reminder"
    ));
    assert_eq!(get(store, &delivery).await.as_ref(), Some(&delivery));
    let again = sample_delivery(&webhook, sample_time());
    assert!(
        !must(
            store.insert_reminder(&base, &again).await,
            "insert_reminder"
        ),
        "a reminder was recorded twice"
    );
    assert_eq!(
        get(store, &again).await,
        None,
        "the repeat's delivery was stored"
    );

    let others = [
        Reminder {
            days_ahead: 1,
            ..base
        },
        Reminder {
            expires_at: deadline + Duration::days(1),
            ..base
        },
        Reminder {
            subject: ReminderSubject::AccessKey(AccessKeyId::from_uuid(*id.as_uuid())),
            ..base
        },
        reminder(&sibling, base.subject, deadline),
    ];
    for other in &others {
        let delivery = sample_delivery(&webhook, sample_time());
        assert!(
            must(
                store.insert_reminder(other, &delivery).await,
                "insert_reminder"
            ),
            "{other:?} is another reminder than {base:?}"
        );
    }
    let unrecorded = Reminder {
        days_ahead: 30,
        ..base
    };
    let asked = [others[2], unrecorded, base, others[0], others[1], others[3]];
    let recorded = must(store.recorded_reminders(&asked).await, "recorded_reminders");
    assert_eq!(recorded, [others[2], base, others[0], others[1], others[3]]);
}

/// Of callers racing to record one reminder, exactly one does, and its delivery is the
/// only one stored.
pub async fn concurrent_reminders_make_one_delivery<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let webhook = stored_webhook(store, org).await;
    let one = reminder(
        &webhook,
        ReminderSubject::AccessKey(AccessKeyId::new()),
        sample_time() + Duration::days(1),
    );
    let deliveries: Vec<Delivery> = (0..RACERS)
        .map(|_| sample_delivery(&webhook, sample_time()))
        .collect();
    let racers = deliveries.iter().map(|delivery| async move {
        yield_now().await;
        store.insert_reminder(&one, delivery).await
    });
    let results: Vec<bool> = join_all(racers)
        .await
        .into_iter()
        .map(|r| must(r, "insert_reminder"))
        .collect();
    assert_eq!(results.iter().filter(|won| **won).count(), 1, "{results:?}");
    let winner = results
        .iter()
        .position(|won| *won)
        .map(|i| deliveries[i].clone());
    let listed = must(
        store.list_deliveries(org, webhook.id, None, 100).await,
        "list_deliveries",
    );
    assert_eq!(listed, winner.into_iter().collect::<Vec<_>>());
}

/// Retention deletes settled deliveries made before the cutoff, oldest first and a batch
/// at a time, of every organization; it never deletes a pending one, however old.
pub async fn prune_deliveries_deletes_only_old_settled_ones<S: Store>(store: &S) {
    let webhook = stored_webhook(store, new_organization(store).await).await;
    let other = stored_webhook(store, new_organization(store).await).await;
    let now = sample_time();
    let made = |webhook: &Webhook, days_ago: i64, status: DeliveryStatus| {
        let at = now - Duration::days(days_ago);
        Delivery {
            id: WebhookDeliveryId::from_uuid(super::retention::log_id_at(at)),
            status,
            next_attempt_at: (status == DeliveryStatus::Pending).then_some(at),
            ..sample_delivery(webhook, at)
        }
    };
    let old_pending = made(&webhook, 50, DeliveryStatus::Pending);
    let oldest_settled = made(&webhook, 40, DeliveryStatus::Succeeded);
    let old_failed = made(&other, 35, DeliveryStatus::Failed);
    let recent = made(&webhook, 2, DeliveryStatus::Succeeded);
    let all = [&old_pending, &oldest_settled, &old_failed, &recent];
    insert(store, &all.iter().map(|d| (*d).clone()).collect::<Vec<_>>()).await;
    let cutoff = now - Duration::days(30);
    let prune = |limit| store.prune_deliveries(cutoff, limit);
    assert_eq!(
        must(prune(1).await, "prune_deliveries"),
        1,
        "one batch of one"
    );
    assert_eq!(
        get(store, &oldest_settled).await,
        None,
        "not the oldest settled first"
    );
    assert!(
        get(store, &old_failed).await.is_some(),
        "more than the batch"
    );
    assert_eq!(must(prune(10).await, "prune_deliveries"), 1);
    assert_eq!(
        must(prune(10).await, "prune_deliveries"),
        0,
        "nothing left to prune"
    );
    assert_eq!(get(store, &old_failed).await, None);
    let kept = (get(store, &old_pending).await, get(store, &recent).await);
    assert_eq!(
        kept,
        (Some(old_pending), Some(recent)),
        "a pending one, a recent one"
    );
}
