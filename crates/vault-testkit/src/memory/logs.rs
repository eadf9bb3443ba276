//! The in-memory store's request log and audit events.

use super::*;
use vault_core::logs::UsageBucket;

/// The range of `(key, id)` keys of `key` strictly before `before` (or all of them).
fn before_range<K: Copy>(key: K, before: Option<Uuid>) -> LogRange<K> {
    let end = before.map_or(Bound::Included((key, Uuid::max())), |id| {
        Bound::Excluded((key, id))
    });
    (Bound::Included((key, Uuid::nil())), end)
}

/// Removes the `limit` smallest ids among the entries that are `old`, from a log keyed by
/// organization first (so the oldest of all organizations are gathered, then sorted).
fn prune_oldest<K: Ord + Copy, V>(
    log: &mut BTreeMap<(K, Uuid), V>,
    ids: &mut HashSet<Uuid>,
    old: impl Fn(&V) -> bool,
    limit: usize,
) -> usize {
    let mut keys: Vec<(K, Uuid)> = log
        .iter()
        .filter(|(_, entry)| old(entry))
        .map(|(key, _)| *key)
        .collect();
    keys.sort_unstable_by_key(|&(_, id)| id);
    keys.truncate(limit);
    for key in &keys {
        log.remove(key);
        ids.remove(&key.1);
    }
    keys.len()
}

impl LogStore for MemoryStore {
    async fn append_log(&self, record: LogRecord) -> Result<(), StoreError> {
        let mut state = self.write();
        match record {
            LogRecord::Request(entry) => {
                if state.request_log_ids.contains(&entry.id) {
                    return Err(StoreError::Conflict);
                }
                // The organization must exist; the credential and access key need not
                // (entries outlive them).
                if !state.organizations.contains_key(&entry.organization_id) {
                    return Err(StoreError::NotFound);
                }
                state.request_log_ids.insert(entry.id);
                state
                    .request_logs
                    .insert((entry.organization_id, entry.id), entry);
            }
            LogRecord::Audit(event) => {
                state.check_audit(&event)?;
                state.push_audit(&event);
            }
        }
        Ok(())
    }

    async fn list_request_logs(
        &self,
        organization: OrganizationId,
        query: &RequestLogQuery,
    ) -> Result<Vec<RequestLogEntry>, StoreError> {
        let state = self.read();
        Ok(state
            .request_logs
            .range(before_range(organization, query.before))
            .rev()
            .map(|(_, entry)| entry)
            .filter(|entry| query.credential_id.is_none_or(|c| entry.credential_id == c))
            .take(query.limit)
            .cloned()
            .collect())
    }

    async fn list_audit_events(
        &self,
        organization: OrganizationId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let state = self.read();
        Ok(state
            .audit_events
            .range(before_range(Some(organization), query.before))
            .rev()
            .map(|(_, event)| event)
            .filter(|event| query.action.is_none_or(|a| event.action == a))
            .filter(|event| query.target.is_none_or(|t| event.target == Some(t)))
            .take(query.limit)
            .cloned()
            .collect())
    }

    async fn credential_usage(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
        since: OffsetDateTime,
    ) -> Result<Vec<UsageBucket>, StoreError> {
        let state = self.read();
        let mut counts: BTreeMap<(i64, u8), u64> = BTreeMap::new();
        let entries = state
            .request_logs
            .range(before_range(organization, None))
            .map(|(_, entry)| entry)
            .filter(|entry| entry.credential_id == credential && entry.at >= since);
        for entry in entries {
            let hour = entry.at.unix_timestamp().div_euclid(3600);
            *counts
                .entry((hour, UsageBucket::class_of(entry.status)))
                .or_default() += 1;
        }
        Ok(counts
            .into_iter()
            .filter_map(|((hour, status_class), count)| {
                Some(UsageBucket {
                    hour: OffsetDateTime::from_unix_timestamp(hour * 3600).ok()?,
                    status_class,
                    count,
                })
            })
            .collect())
    }

    async fn prune_log(
        &self,
        log: LogKind,
        cutoff: OffsetDateTime,
        limit: usize,
    ) -> Result<u64, StoreError> {
        let floor = id_floor(cutoff);
        let mut state = self.write();
        let state = &mut *state;
        let deleted = match log {
            LogKind::Request => prune_oldest(
                &mut state.request_logs,
                &mut state.request_log_ids,
                |entry| entry.id < floor && entry.at < cutoff,
                limit,
            ),
            LogKind::Audit => prune_oldest(
                &mut state.audit_events,
                &mut state.audit_event_ids,
                |event| event.chain.is_none() && event.id < floor && event.at < cutoff,
                limit,
            ),
        };
        Ok(deleted as u64)
    }
}
