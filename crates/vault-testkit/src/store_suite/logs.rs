//! Checks of the request and audit logs.

use std::cmp::Reverse;

use time::Duration;
use uuid::Uuid;
use vault_core::Store;
use vault_core::credential::CredentialType;
use vault_core::ids::{AccessKeyId, CredentialId, OrganizationId};
use vault_core::logs::{
    AuditAction, AuditEvent, AuditOutcome, AuditQuery, LogRecord, RequestLogEntry, RequestLogQuery,
    UsageBucket,
};

use super::fixtures::{
    assert_conflict, delete, insert, insert_key, must, new_organization, revoke_key,
    sample_access_key, sample_audit_event, sample_change_audit, sample_credential,
    sample_request_log, sample_time, unlinked,
};
use super::versions::{audit_of, history};

fn log_query(limit: usize) -> RequestLogQuery {
    RequestLogQuery {
        limit,
        ..RequestLogQuery::default()
    }
}

fn audit_query(limit: usize) -> AuditQuery {
    AuditQuery {
        limit,
        ..AuditQuery::default()
    }
}

/// Ids newest first: the order every log list returns.
fn newest_first(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids
}

fn log_ids(entries: &[RequestLogEntry]) -> Vec<Uuid> {
    entries.iter().map(|e| e.id).collect()
}

pub(super) fn event_ids(events: &[AuditEvent]) -> Vec<Uuid> {
    events.iter().map(|e| e.id).collect()
}

/// Reads every page of a log list with page size `limit`, each page starting before the
/// last id of the one before, checking each page on the way: at most `limit` items, newest
/// first, all older than the cursor.
async fn walk_log_pages<T>(
    what: &str,
    limit: usize,
    id_of: fn(&T) -> Uuid,
    mut page_before: impl AsyncFnMut(Option<Uuid>) -> Vec<T>,
) -> Vec<T> {
    let mut all: Vec<T> = Vec::new();
    let mut before = None;
    for _ in 0..1000 {
        let page = page_before(before).await;
        assert!(
            page.len() <= limit,
            "{what} returned {} items for limit {limit}",
            page.len()
        );
        let ids: Vec<Uuid> = page.iter().map(id_of).collect();
        assert_eq!(
            ids,
            newest_first(ids.clone()),
            "a page of {what} is not newest first"
        );
        if let (Some(cursor), Some(first)) = (before, ids.first()) {
            assert!(
                *first < cursor,
                "a page of {what} starts at {first}, not before the cursor {cursor}"
            );
        }
        let done = page.len() < limit;
        before = ids.last().copied();
        all.extend(page);
        if done || before.is_none() {
            return all;
        }
    }
    panic!("{what} kept returning full pages after 1000 pages");
}

async fn all_request_log_pages<S: Store>(
    store: &S,
    organization: OrganizationId,
    base: &RequestLogQuery,
    limit: usize,
) -> Vec<RequestLogEntry> {
    walk_log_pages(
        "list_request_logs",
        limit,
        |e: &RequestLogEntry| e.id,
        async |before| {
            let query = RequestLogQuery {
                before,
                limit,
                ..base.clone()
            };
            must(
                store.list_request_logs(organization, &query).await,
                "list_request_logs",
            )
        },
    )
    .await
}

async fn all_audit_event_pages<S: Store>(
    store: &S,
    organization: OrganizationId,
    base: &AuditQuery,
    limit: usize,
) -> Vec<AuditEvent> {
    walk_log_pages(
        "list_audit_events",
        limit,
        |e: &AuditEvent| e.id,
        async |before| {
            let query = AuditQuery {
                before,
                limit,
                ..base.clone()
            };
            must(
                store.list_audit_events(organization, &query).await,
                "list_audit_events",
            )
        },
    )
    .await
}

async fn insert_logs<S: Store>(store: &S, entries: &[RequestLogEntry]) {
    for entry in entries {
        must(
            store.append_log(LogRecord::Request(entry.clone())).await,
            "append_log of a request-log entry",
        );
    }
}

async fn insert_events<S: Store>(store: &S, events: &[AuditEvent]) {
    for event in events {
        must(
            store.append_log(LogRecord::Audit(event.clone())).await,
            "append_log of an audit event",
        );
    }
}

/// Every field of a request-log entry survives insert then list: times to the microsecond,
/// non-ASCII text, a status at the ends of its range, and every optional field absent.
pub async fn request_log_round_trip<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let credential = CredentialId::new();
    let answered = sample_request_log(org, credential);
    let mut unanswered = sample_request_log(org, credential);
    unanswered.method = "GET".to_owned();
    unanswered.path = "/".to_owned();
    unanswered.status = None;
    unanswered.error = Some("connect-timeout".to_owned());
    unanswered.latency_micros = 0;
    unanswered.at = sample_time() - Duration::minutes(1);
    unanswered.access_key_id = None;
    unanswered.actor_subject = None;
    let mut bare = sample_request_log(org, CredentialId::new());
    bare.credential_name = "x".to_owned();
    bare.status = None;
    bare.error = None;
    bare.access_key_id = None;
    bare.actor_subject = None;
    bare.latency_micros = i64::MAX;
    let mut odd_status = sample_request_log(org, credential);
    odd_status.status = Some(u16::MAX);
    odd_status.error = Some("body-read".to_owned());
    let mut low_status = sample_request_log(org, credential);
    low_status.status = Some(0);
    let inserted = [answered, unanswered, bare, odd_status, low_status];
    insert_logs(store, &inserted).await;

    let listed = must(
        store.list_request_logs(org, &log_query(100)).await,
        "list_request_logs",
    );
    let mut expected = inserted.to_vec();
    expected.sort_by_key(|e| Reverse(e.id));
    for (got, want) in listed.iter().zip(&expected) {
        assert_eq!(got.at, want.at, "request_logs.at changed");
        assert_eq!(got.status, want.status, "request_logs.status changed");
    }
    assert_eq!(
        listed, expected,
        "list_request_logs does not return the inserted entries, field for field, newest first"
    );
}

/// Request logs list newest first (largest id first); `before` pages through them exactly
/// once, is exclusive, and need not be a stored id; `limit` is a maximum.
pub async fn request_logs_list_newest_first_by_cursor<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let mut mine = Vec::new();
    for _ in 0..7 {
        let entry = sample_request_log(org, CredentialId::new());
        let noise = sample_request_log(other, entry.credential_id);
        insert_logs(store, &[entry.clone(), noise]).await;
        mine.push(entry.id);
    }
    let expected = newest_first(mine);

    for limit in [1, 3, 7, 100] {
        let all = all_request_log_pages(store, org, &RequestLogQuery::default(), limit).await;
        assert_eq!(
            log_ids(&all),
            expected,
            "paging with limit {limit} returned duplicates, gaps, foreign or unordered entries"
        );
    }
    let first = must(store.list_request_logs(org, &log_query(3)).await, "list");
    assert_eq!(log_ids(&first), expected[..3], "the first page of 3");
    let page = |before: Uuid, limit: usize| RequestLogQuery {
        before: Some(before),
        limit,
        ..RequestLogQuery::default()
    };
    let second = must(
        store.list_request_logs(org, &page(expected[2], 3)).await,
        "list",
    );
    assert_eq!(
        log_ids(&second),
        expected[3..6],
        "the page before the third id"
    );
    assert!(
        must(
            store.list_request_logs(org, &page(expected[6], 10)).await,
            "list"
        )
        .is_empty(),
        "a page before the oldest id is not empty"
    );
    assert_eq!(
        log_ids(&must(
            store.list_request_logs(org, &page(Uuid::max(), 10)).await,
            "list"
        )),
        expected,
        "a cursor above every id"
    );
    assert!(
        must(
            store.list_request_logs(org, &page(Uuid::nil(), 10)).await,
            "list"
        )
        .is_empty(),
        "a cursor below every id returned entries"
    );
    assert!(
        must(store.list_request_logs(org, &log_query(0)).await, "list").is_empty(),
        "limit 0 returned entries"
    );
}

/// The credential filter returns exactly that credential's entries, newest first, paged.
pub async fn request_logs_filter_by_credential<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let (a, b) = (CredentialId::new(), CredentialId::new());
    let mut of_a = Vec::new();
    for _ in 0..4 {
        let entry_a = sample_request_log(org, a);
        let entry_b = sample_request_log(org, b);
        // The same credential id in another organization: never listed for this one.
        let noise = sample_request_log(other, a);
        insert_logs(store, &[entry_a.clone(), entry_b, noise]).await;
        of_a.push(entry_a.id);
    }
    let expected = newest_first(of_a);
    let filter = RequestLogQuery {
        credential_id: Some(a),
        ..RequestLogQuery::default()
    };
    for limit in [1, 3, 100] {
        let got = all_request_log_pages(store, org, &filter, limit).await;
        assert_eq!(
            log_ids(&got),
            expected,
            "list_request_logs filtered by credential, limit {limit}"
        );
        assert!(
            got.iter()
                .all(|e| e.credential_id == a && e.organization_id == org),
            "the credential filter returned another credential's or organization's entry"
        );
    }
    let unknown = RequestLogQuery {
        credential_id: Some(CredentialId::new()),
        limit: 100,
        ..RequestLogQuery::default()
    };
    assert!(
        must(store.list_request_logs(org, &unknown).await, "list").is_empty(),
        "a credential with no entries has entries"
    );
}

/// A credential's usage counts its entries since the instant given, per hour and status
/// class (0: no answer), and nothing of another credential or organization.
pub async fn credential_usage_counts_per_hour_and_class<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let (a, b) = (CredentialId::new(), CredentialId::new());
    let hour = time::macros::datetime!(2026-11-30 10:00 UTC);
    let at = |minutes: i64, status: Option<u16>, organization, credential| {
        let mut entry = sample_request_log(organization, credential);
        entry.at = hour + Duration::minutes(minutes);
        entry.id = super::retention::log_id_at(entry.at);
        entry.status = status;
        entry
    };
    insert_logs(
        store,
        &[
            at(-1, Some(200), org, a),
            at(5, Some(200), org, a),
            at(10, Some(201), org, a),
            at(20, Some(404), org, a),
            at(70, Some(503), org, a),
            at(75, None, org, a),
            at(5, Some(200), org, b),
            at(5, Some(200), other, a),
        ],
    )
    .await;
    let mut got = must(
        store.credential_usage(org, a, hour).await,
        "credential_usage",
    );
    got.sort_by_key(|b| (b.hour, b.status_class));
    let bucket = |hours: i64, status_class: u8, count: u64| UsageBucket {
        hour: hour + Duration::hours(hours),
        status_class,
        count,
    };
    assert_eq!(
        got,
        [
            bucket(0, 2, 2),
            bucket(0, 4, 1),
            bucket(1, 0, 1),
            bucket(1, 5, 1)
        ],
        "credential_usage does not count per hour and class, or counts what is not the \
         credential's since the instant"
    );
    assert!(
        must(
            store.credential_usage(org, CredentialId::new(), hour).await,
            "usage"
        )
        .is_empty()
    );
}

/// Another organization sees none of an organization's request log, with or without
/// filters.
pub async fn request_logs_are_isolated<S: Store>(store: &S) {
    let a = new_organization(store).await;
    let b = new_organization(store).await;
    let credential = CredentialId::new();
    let entries = [
        sample_request_log(a, credential),
        sample_request_log(a, credential),
    ];
    insert_logs(store, &entries).await;

    assert!(
        must(
            store.list_request_logs(b, &log_query(100)).await,
            "list from B"
        )
        .is_empty(),
        "B's request log shows A's entries"
    );
    let filtered = RequestLogQuery {
        credential_id: Some(credential),
        before: Some(Uuid::max()),
        limit: 100,
    };
    assert!(
        must(store.list_request_logs(b, &filtered).await, "list from B").is_empty(),
        "B's request log filtered by A's credential shows A's entries"
    );
    let listed = must(store.list_request_logs(a, &filtered).await, "list from A");
    assert_eq!(
        log_ids(&listed),
        newest_first(log_ids(&entries)),
        "A's own request log"
    );
}

/// Entries outlive what they name: a credential's log stays readable after the credential
/// is deleted, and entries may name a deleted credential or an access key that never
/// existed.
pub async fn request_logs_outlive_their_credential<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let credential = sample_credential(org, CredentialType::BearerToken);
    must(insert(store, &credential).await, "insert_credential");
    let key = sample_access_key(org);
    must(insert_key(store, &key).await, "insert_access_key");
    let id = credential.credential.id;

    let mut before_delete = sample_request_log(org, id);
    before_delete.credential_name = credential.credential.name.as_str().to_owned();
    before_delete.access_key_id = Some(key.key.id);
    insert_logs(store, std::slice::from_ref(&before_delete)).await;
    must(delete(store, org, id).await, "delete_credential");
    must(
        revoke_key(store, org, key.key.id, sample_time()).await,
        "revoke_access_key",
    );

    // Naming the deleted credential, and an access key that was never stored.
    let after_delete = sample_request_log(org, id);
    must(
        store
            .append_log(LogRecord::Request(after_delete.clone()))
            .await,
        "append_log of a request-log entry naming a deleted credential and an unknown access key",
    );
    let filter = RequestLogQuery {
        credential_id: Some(id),
        limit: 100,
        ..RequestLogQuery::default()
    };
    let listed = must(store.list_request_logs(org, &filter).await, "list");
    let mut expected = vec![before_delete, after_delete];
    expected.sort_by_key(|e| Reverse(e.id));
    assert_eq!(
        listed, expected,
        "the log of a deleted credential is gone or changed"
    );
}

/// Inserting a request-log id that exists (in any organization) is a `Conflict` and
/// changes nothing.
pub async fn duplicate_request_log_id_conflicts<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let original = sample_request_log(org, CredentialId::new());
    insert_logs(store, std::slice::from_ref(&original)).await;

    let mut again = sample_request_log(org, CredentialId::new());
    again.id = original.id;
    again.path = "/impostor".to_owned();
    assert_conflict(
        store.append_log(LogRecord::Request(again.clone())).await,
        "append_log of a request-log entry of an existing id",
    );
    again.organization_id = other;
    assert_conflict(
        store.append_log(LogRecord::Request(again.clone())).await,
        "append_log of a request-log entry of an id that exists in another organization",
    );
    assert_eq!(
        must(store.list_request_logs(org, &log_query(100)).await, "list"),
        vec![original],
        "a refused duplicate changed the log"
    );
    assert!(
        must(
            store.list_request_logs(other, &log_query(100)).await,
            "list"
        )
        .is_empty(),
        "a refused duplicate was stored in the other organization"
    );
}

/// Every field of an audit event survives insert then list, for every action and both
/// outcomes, with optional fields present and absent and counts of 1 and more; an event
/// of no organization is accepted and listed nowhere.
pub async fn audit_event_round_trip<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let mut inserted = Vec::new();
    for (i, action) in AuditAction::ALL.into_iter().enumerate() {
        let mut event = sample_audit_event(Some(org));
        event.action = action;
        event.at = sample_time() - Duration::seconds(i64::try_from(i).unwrap_or_default());
        if i % 2 == 1 {
            event.actor = None;
            event.actor_subject = None;
            event.target = None;
            event.outcome = AuditOutcome::Success;
            event.reason = None;
            event.count = 1;
        }
        inserted.push(event);
    }
    insert_events(store, &inserted).await;

    let mut anonymous = sample_audit_event(None);
    anonymous.action = AuditAction::AuthenticationFailure;
    anonymous.actor = None;
    anonymous.actor_subject = None;
    anonymous.target = None;
    anonymous.reason = Some("unknown-key".to_owned());
    must(
        store.append_log(LogRecord::Audit(anonymous.clone())).await,
        "append_log of an audit event of no organization",
    );

    let listed = unlinked(must(
        store.list_audit_events(org, &audit_query(100)).await,
        "list_audit_events",
    ));
    inserted.sort_by_key(|e| Reverse(e.id));
    for (got, want) in listed.iter().zip(&inserted) {
        assert_eq!(got.at, want.at, "audit_events.at changed");
        assert_eq!(got.action, want.action, "audit_events.action changed");
    }
    assert_eq!(
        listed, inserted,
        "list_audit_events does not return the inserted events, field for field, newest first"
    );
}

/// Audit events list newest first with an exclusive `before` cursor and a `limit`, only
/// the organization's own (never another's, never those of no organization).
pub async fn audit_events_list_newest_first_by_cursor<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let mut mine = Vec::new();
    for _ in 0..7 {
        let event = sample_audit_event(Some(org));
        let mut noise = sample_audit_event(Some(other));
        noise.target = event.target;
        let anonymous = sample_audit_event(None);
        insert_events(store, &[event.clone(), noise, anonymous]).await;
        mine.push(event.id);
    }
    let expected = newest_first(mine);

    for limit in [1, 3, 7, 100] {
        let all = all_audit_event_pages(store, org, &AuditQuery::default(), limit).await;
        assert_eq!(
            event_ids(&all),
            expected,
            "paging with limit {limit} returned duplicates, gaps, foreign or unordered events"
        );
    }
    let page = |before: Uuid, limit: usize| AuditQuery {
        before: Some(before),
        limit,
        ..AuditQuery::default()
    };
    let second = must(
        store.list_audit_events(org, &page(expected[2], 3)).await,
        "list",
    );
    assert_eq!(
        event_ids(&second),
        expected[3..6],
        "the page before the third id"
    );
    assert!(
        must(
            store.list_audit_events(org, &page(expected[6], 10)).await,
            "list"
        )
        .is_empty(),
        "a page before the oldest id is not empty"
    );
    assert_eq!(
        event_ids(&must(
            store.list_audit_events(org, &page(Uuid::max(), 10)).await,
            "list"
        )),
        expected,
        "a cursor above every id"
    );
    assert!(
        must(store.list_audit_events(org, &audit_query(0)).await, "list").is_empty(),
        "limit 0 returned events"
    );
    let others = must(
        store.list_audit_events(other, &audit_query(100)).await,
        "list",
    );
    assert_eq!(others.len(), 7, "the other organization's events");
    assert!(
        others.iter().all(|e| e.organization_id == Some(other)),
        "a list shows another organization's event or one of no organization"
    );
    let stranger = new_organization(store).await;
    assert!(
        must(
            store.list_audit_events(stranger, &audit_query(100)).await,
            "list"
        )
        .is_empty(),
        "an organization with no events lists some"
    );
}

/// The action and target filters, alone and together, return exactly the matching events,
/// newest first, paged.
pub async fn audit_events_filter_by_action_and_target<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let (t1, t2) = (
        *CredentialId::new().as_uuid(),
        *AccessKeyId::new().as_uuid(),
    );
    let shapes = [
        (AuditAction::CredentialUse, Some(t1)),
        (AuditAction::CredentialUpdate, Some(t1)),
        (AuditAction::CredentialUse, Some(t2)),
        (AuditAction::AccessKeyRevoke, Some(t2)),
        (AuditAction::CredentialUse, None),
        (AuditAction::AuthenticationFailure, None),
    ];
    let mut events = Vec::new();
    for _ in 0..2 {
        for (action, target) in shapes {
            let mut event = sample_audit_event(Some(org));
            event.action = action;
            event.target = target;
            let mut noise = event.clone();
            noise.id = Uuid::now_v7();
            noise.organization_id = Some(other);
            insert_events(store, &[event.clone(), noise]).await;
            events.push(event);
        }
    }
    let expect = |action: Option<AuditAction>, target: Option<Uuid>| -> Vec<Uuid> {
        newest_first(
            events
                .iter()
                .filter(|e| action.is_none_or(|a| e.action == a))
                .filter(|e| target.is_none_or(|t| e.target == Some(t)))
                .map(|e| e.id)
                .collect(),
        )
    };
    let cases = [
        (Some(AuditAction::CredentialUse), None),
        (Some(AuditAction::AuthenticationFailure), None),
        (Some(AuditAction::CredentialCreate), None),
        (None, Some(t1)),
        (None, Some(t2)),
        (None, Some(Uuid::now_v7())),
        (Some(AuditAction::CredentialUse), Some(t1)),
        (Some(AuditAction::AccessKeyRevoke), Some(t1)),
    ];
    for (action, target) in cases {
        let filter = AuditQuery {
            action,
            target,
            ..AuditQuery::default()
        };
        for limit in [1, 100] {
            let got = all_audit_event_pages(store, org, &filter, limit).await;
            assert_eq!(
                event_ids(&got),
                expect(action, target),
                "list_audit_events filtered by action {action:?} and target {target:?}, \
                 limit {limit}"
            );
        }
    }
}

/// Inserting an audit-event id that exists (in any organization, or none) is a `Conflict`
/// and changes nothing.
pub async fn duplicate_audit_event_id_conflicts<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let original = sample_audit_event(Some(org));
    insert_events(store, std::slice::from_ref(&original)).await;

    let mut again = sample_audit_event(Some(org));
    again.id = original.id;
    again.action = AuditAction::CredentialDelete;
    assert_conflict(
        store.append_log(LogRecord::Audit(again.clone())).await,
        "append_log of an audit event of an existing id",
    );
    again.organization_id = Some(other);
    assert_conflict(
        store.append_log(LogRecord::Audit(again.clone())).await,
        "append_log of an audit event of an id that exists in another organization",
    );
    again.organization_id = None;
    assert_conflict(
        store.append_log(LogRecord::Audit(again.clone())).await,
        "append_log of an audit event of no organization with an existing id",
    );
    let anonymous = sample_audit_event(None);
    insert_events(store, std::slice::from_ref(&anonymous)).await;
    let mut again = sample_audit_event(Some(org));
    again.id = anonymous.id;
    assert_conflict(
        store.append_log(LogRecord::Audit(again.clone())).await,
        "append_log of an audit event with the id of an event of no organization",
    );
    assert_eq!(
        unlinked(must(
            store.list_audit_events(org, &audit_query(100)).await,
            "list"
        )),
        vec![original],
        "a refused duplicate changed the audit log"
    );
    assert!(
        must(
            store.list_audit_events(other, &audit_query(100)).await,
            "list"
        )
        .is_empty(),
        "a refused duplicate was stored in the other organization"
    );
}

/// The identity-provider subject of an actor (no access key) survives insert then list in
/// both logs at its limits (one character, 255 non-ASCII characters), and in the audit
/// events that changes and access-key issues write in their own transactions.
pub async fn actor_subjects_round_trip<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let longest = "ü".repeat(255);
    let subjects = ["x", longest.as_str(), "auth0|5f7c8ec7 user@example.com"];
    let mut entries = Vec::new();
    let mut events = Vec::new();
    for subject in subjects {
        let mut entry = sample_request_log(org, CredentialId::new());
        entry.access_key_id = None;
        entry.actor_subject = Some(subject.to_owned());
        entries.push(entry);
        let mut event = sample_audit_event(Some(org));
        event.actor = None;
        event.actor_subject = Some(subject.to_owned());
        events.push(event);
    }
    insert_logs(store, &entries).await;
    insert_events(store, &events).await;
    entries.sort_by_key(|e| Reverse(e.id));
    assert_eq!(
        must(
            store.list_request_logs(org, &log_query(100)).await,
            "list_request_logs"
        ),
        entries,
        "request_logs.actor_subject does not round-trip"
    );

    let credential = sample_credential(org, CredentialType::BearerToken);
    let mut created = audit_of(&credential, AuditAction::CredentialCreate);
    created.actor = None;
    created.actor_subject = Some("svc-deployer@example.com".to_owned());
    must(
        store
            .insert_credential(&credential, &history(&[], 0, &created))
            .await,
        "insert_credential",
    );
    let key = sample_access_key(org);
    let mut issued = sample_change_audit(org, AuditAction::AccessKeyCreate, *key.key.id.as_uuid());
    issued.actor = None;
    issued.actor_subject = Some(longest.clone());
    must(
        store.insert_access_key(&key, &issued).await,
        "insert_access_key",
    );
    events.push(created);
    events.push(issued);
    events.sort_by_key(|e| Reverse(e.id));
    assert_eq!(
        unlinked(must(
            store.list_audit_events(org, &audit_query(100)).await,
            "list_audit_events"
        )),
        events,
        "audit_events.actor_subject does not round-trip"
    );
}
