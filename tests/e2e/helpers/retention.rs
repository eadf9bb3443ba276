//! Log entries of chosen ages, for the log-retention tests, and the counts the servers'
//! retention runs log.

use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use vault_core::logs::{AuditEvent, AuditQuery, LogRecord, RequestLogEntry, RequestLogQuery};
use vault_core::{CredentialId, OrganizationId, Store};
use vault_testkit::store_suite::{
    log_id_at, sample_audit_event, sample_organization, sample_request_log,
};

/// What [`seed`] wrote: an organization's old (10 days) and recent entries of both logs,
/// and an old audit event of no organization (a keyless failure).
pub(crate) struct Seeded {
    pub(crate) organization: OrganizationId,
    pub(crate) recent_requests: Vec<Uuid>,
    pub(crate) recent_audit: Vec<Uuid>,
}

/// Old request-log entries [`seed`] writes; old audit events are one more (the keyless one).
pub(crate) const OLD_REQUESTS: u64 = 2;
/// Old audit events [`seed`] writes, the keyless one included.
pub(crate) const OLD_AUDIT: u64 = 3;

/// Writes, through `store`, a fresh organization with 2 request-log entries and 2 audit
/// events 10 days old and one of each from now, and an audit event of no organization 20
/// days old.
pub(crate) async fn seed<S: Store>(store: &S) -> Seeded {
    let organization = sample_organization();
    store
        .insert_organization(&organization)
        .await
        .expect("an organization");
    let now = vault_core::clock::truncate_to_micros(OffsetDateTime::now_utc());
    let (mut recent_requests, mut recent_audit) = (Vec::new(), Vec::new());
    for age in [10, 10, 0] {
        let at = now - Duration::days(age);
        let entry = RequestLogEntry {
            id: log_id_at(at),
            at,
            ..sample_request_log(organization.id, CredentialId::new())
        };
        store
            .append_log(LogRecord::Request(entry.clone()))
            .await
            .expect("an entry");
        let event = AuditEvent {
            id: log_id_at(at),
            at,
            ..sample_audit_event(Some(organization.id))
        };
        store
            .append_log(LogRecord::Audit(event.clone()))
            .await
            .expect("an event");
        if age == 0 {
            recent_requests.push(entry.id);
            recent_audit.push(event.id);
        }
    }
    let at = now - Duration::days(20);
    let keyless = AuditEvent {
        id: log_id_at(at),
        at,
        ..sample_audit_event(None)
    };
    store
        .append_log(LogRecord::Audit(keyless.clone()))
        .await
        .expect("a keyless event");
    Seeded {
        organization: organization.id,
        recent_requests,
        recent_audit,
    }
}

/// The organization's request-log ids and audit-event ids, newest first.
pub(crate) async fn log_ids<S: Store>(
    store: &S,
    organization: OrganizationId,
) -> (Vec<Uuid>, Vec<Uuid>) {
    let requests = store
        .list_request_logs(
            organization,
            &RequestLogQuery {
                limit: 100,
                ..RequestLogQuery::default()
            },
        )
        .await
        .expect("the request log");
    let audit = store
        .list_audit_events(
            organization,
            &AuditQuery {
                limit: 100,
                ..AuditQuery::default()
            },
        )
        .await
        .expect("the audit log");
    (
        requests.into_iter().map(|e| e.id).collect(),
        audit.into_iter().map(|e| e.id).collect(),
    )
}

/// The request-log entries and audit events a server's log says its retention runs
/// deleted, summed over its runs.
pub(crate) fn pruned_counts(log: &str) -> (u64, u64) {
    let mut totals = (0, 0);
    for rest in log.split("log retention: pruned ").skip(1) {
        let words: Vec<&str> = rest.split_whitespace().collect();
        // "<N> request-log entries and <M> audit events"
        let number = |i: usize| -> u64 {
            words
                .get(i)
                .and_then(|w| w.parse().ok())
                .unwrap_or_else(|| panic!("a count in {rest:?}"))
        };
        totals.0 += number(0);
        totals.1 += number(4);
    }
    totals
}
