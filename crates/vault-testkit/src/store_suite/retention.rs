//! Checks of log retention (`LogStore::prune_log`, issue 15) and of the background jobs'
//! exclusion (`JobStore::exclusive`). Chained audit events leave only by their chain's cut
//! (`audit_chain` checks it); `prune_log` of the audit log takes only events from before
//! chains existed, which no store writes any more, so here it must delete nothing.
//!
//! Like `organizations_insert_and_count`, the pruning checks count what a prune deleted,
//! so they expect no other writer of old log entries in the same store while they run (the
//! macro gives every check a fresh store): audit events of no organization are never
//! listed, and the count is how their pruning shows.

use time::{Duration, OffsetDateTime};
use uuid::{NoContext, Timestamp, Uuid};
use vault_core::Store;
use vault_core::clock::truncate_to_micros;
use vault_core::ids::{CredentialId, OrganizationId};
use vault_core::logs::{AuditQuery, LogRecord, RequestLogQuery};
use vault_core::store::{JobName, LogKind, StoreError};

use super::fixtures::{
    must, new_organization, sample_audit_event, sample_request_log, sample_time,
};

/// A UUID v7 made at `at`, as the vault makes log ids when it writes an entry: for log
/// entries of a chosen age.
///
/// # Panics
/// For a time before 1970.
#[must_use]
pub fn log_id_at(at: OffsetDateTime) -> Uuid {
    let nanos = at.unix_timestamp_nanos();
    let secs = u64::try_from(nanos.div_euclid(1_000_000_000)).expect("a time after 1970");
    let subsec = u32::try_from(nanos.rem_euclid(1_000_000_000)).expect("under a second");
    Uuid::new_v7(Timestamp::from_unix(NoContext, secs, subsec))
}

/// Writes one entry of `log` at `at` (its id made then too) for `organization` (or none,
/// an audit event of a keyless failure); returns its id.
async fn write_at<S: Store>(
    store: &S,
    log: LogKind,
    organization: Option<OrganizationId>,
    at: OffsetDateTime,
) -> Uuid {
    let at = truncate_to_micros(at);
    let id = log_id_at(at);
    match (log, organization) {
        (LogKind::Request, Some(organization)) => {
            let entry = sample_request_log(organization, CredentialId::new());
            let entry = vault_core::logs::RequestLogEntry { id, at, ..entry };
            must(
                store.append_log(LogRecord::Request(entry)).await,
                "append_log of a request-log entry",
            );
        }
        (LogKind::Request, None) => panic!("request-log entries always have an organization"),
        (LogKind::Audit, organization) => {
            let event = sample_audit_event(organization);
            let event = vault_core::logs::AuditEvent { id, at, ..event };
            must(
                store.append_log(LogRecord::Audit(event)).await,
                "append_log of an audit event",
            );
        }
    }
    id
}

/// The ids of `organization`'s entries of `log`, newest first.
async fn ids<S: Store>(store: &S, log: LogKind, organization: OrganizationId) -> Vec<Uuid> {
    match log {
        LogKind::Request => {
            let query = RequestLogQuery {
                limit: 1_000,
                ..RequestLogQuery::default()
            };
            must(
                store.list_request_logs(organization, &query).await,
                "list_request_logs",
            )
            .into_iter()
            .map(|entry| entry.id)
            .collect()
        }
        LogKind::Audit => {
            let query = AuditQuery {
                limit: 1_000,
                ..AuditQuery::default()
            };
            must(
                store.list_audit_events(organization, &query).await,
                "list_audit_events",
            )
            .into_iter()
            .map(|event| event.id)
            .collect()
        }
    }
}

const fn other(log: LogKind) -> LogKind {
    match log {
        LogKind::Request => LogKind::Audit,
        LogKind::Audit => LogKind::Request,
    }
}

/// A prune of the request log deletes the entries older than the cutoff (of every
/// organization), and keeps the newer ones, another organization's recent entries, and
/// every audit event; a prune of the audit log deletes no chained event, however old.
pub async fn prune_log_deletes_only_entries_older_than_the_cutoff<S: Store>(store: &S) {
    let now = sample_time();
    let cutoff = now - Duration::days(1);
    {
        let log = LogKind::Request;
        let org = new_organization(store).await;
        let neighbour = new_organization(store).await;
        let mut old = Vec::new();
        for days in [400, 30, 2] {
            old.push(write_at(store, log, Some(org), now - Duration::days(days)).await);
        }
        // Just younger than the cutoff, and recent: kept.
        let mut kept = vec![
            write_at(store, log, Some(org), cutoff + Duration::minutes(1)).await,
            write_at(store, log, Some(org), now).await,
        ];
        let neighbours = vec![write_at(store, log, Some(neighbour), now).await];
        write_at(store, LogKind::Audit, None, now - Duration::days(10)).await;
        // The other log's entries of the same ages stay whatever happens to this one.
        let mut other_log = Vec::new();
        for at in [now - Duration::days(30), now] {
            other_log.push(write_at(store, other(log), Some(org), at).await);
        }

        let deleted = must(store.prune_log(log, cutoff, 100).await, "prune_log");
        assert_eq!(
            deleted,
            old.len() as u64,
            "{log:?}: prune_log deleted {deleted} entries, not the {} older than the cutoff",
            old.len(),
        );
        kept.reverse();
        assert_eq!(
            ids(store, log, org).await,
            kept,
            "{log:?}: after a prune the organization's log is not exactly its newer entries"
        );
        assert_eq!(
            ids(store, log, neighbour).await,
            neighbours,
            "{log:?}: a prune touched another organization's recent entries"
        );
        other_log.reverse();
        assert_eq!(
            ids(store, other(log), org).await,
            other_log,
            "{log:?}: a prune of one log deleted entries of the other"
        );
        assert_eq!(
            must(store.prune_log(log, cutoff, 100).await, "prune_log"),
            0,
            "{log:?}: a second prune found more to delete"
        );
        // Chained audit events, however old, are not the prune's to delete.
        assert_eq!(
            must(store.prune_log(other(log), cutoff, 100).await, "prune_log"),
            0,
            "a prune of the audit log deleted chained events"
        );
        assert_eq!(
            ids(store, other(log), org).await,
            other_log,
            "a prune of the audit log deleted chained events"
        );
    }
}

/// A prune of the request log deletes at most its batch size, the oldest first, and
/// returns fewer only when nothing older than the cutoff is left.
pub async fn prune_log_honours_the_batch_size_oldest_first<S: Store>(store: &S) {
    let now = sample_time();
    let cutoff = now - Duration::days(1);
    {
        let log = LogKind::Request;
        let org = new_organization(store).await;
        let mut old = Vec::new();
        for days in (2..7).rev() {
            old.push(write_at(store, log, Some(org), now - Duration::days(days)).await);
        }
        let recent = write_at(store, log, Some(org), now).await;
        let mut batches = Vec::new();
        for _ in 0..10 {
            let deleted = must(store.prune_log(log, cutoff, 2).await, "prune_log");
            assert!(
                deleted <= 2,
                "{log:?}: a batch of 2 deleted {deleted} entries"
            );
            batches.push(deleted);
            let left = ids(store, log, org).await;
            // Oldest first: what is left is always the newest part of the log.
            let gone = old.len().min(batches.iter().sum::<u64>() as usize);
            let mut expected: Vec<Uuid> = old[gone..].to_vec();
            expected.push(recent);
            expected.reverse();
            assert_eq!(
                left, expected,
                "{log:?}: after batches {batches:?} the log does not hold its newest entries"
            );
            if deleted < 2 {
                break;
            }
        }
        assert_eq!(
            batches,
            [2, 2, 1],
            "{log:?}: five old entries did not go in batches of 2, 2 and a short 1"
        );
    }
}

/// `exclusive` runs a batch and hands back its result; while a batch of a job runs, another
/// call for the same job is refused at once (`None`, its batch not run) and one for another
/// job runs; a failed batch's error comes back; nothing stays held afterwards.
pub async fn exclusive_runs_one_batch_of_a_job_at_a_time<S: Store>(store: &S) {
    let job = JobName::new(Box::leak(
        format!("conformance-{}", Uuid::new_v4()).into_boxed_str(),
    ));
    let another = JobName::new(Box::leak(
        format!("conformance-{}", Uuid::new_v4()).into_boxed_str(),
    ));
    let outcome = must(
        store
            .exclusive(job, || async {
                let same = store.exclusive(job, || async { Ok("ran twice") }).await?;
                let other = store
                    .exclusive(another, || async { Ok("other job") })
                    .await?;
                Ok((same, other))
            })
            .await,
        "exclusive",
    );
    assert_eq!(
        outcome,
        Some((None, Some("other job"))),
        "a job's batch ran beside another batch of the same job, or a different job was held off"
    );
    let failed: Result<Option<()>, StoreError> = store
        .exclusive(job, || async { Err(StoreError::NotFound) })
        .await;
    assert!(
        matches!(failed, Err(StoreError::NotFound)),
        "a failed batch's error did not come back as it was: {failed:?}"
    );
    assert_eq!(
        must(store.exclusive(job, || async { Ok(7) }).await, "exclusive"),
        Some(7),
        "a job stayed held after its batches ended"
    );
}
