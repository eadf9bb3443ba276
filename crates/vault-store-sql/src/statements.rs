//! The statements both stores run as plain SQL: grouped counts under one `UNION ALL`, and
//! a batched `DELETE`, read more plainly so than through diesel's query builder; and one
//! condition written out for a partial index.
//! Parameters are written `$1`, `$2`, ...:
//! PostgreSQL's positional parameters, and to SQLite named parameters, numbered in the
//! order they first appear, so the same text binds the same way on both.

/// Sealed rows per key id and table, in one statement (so one snapshot): five GROUP BYs
/// over the `key_id` columns (index-only where the table has a `key_id` index), never a
/// blob. A connection without tokens (its `key_id` NULL) is no sealed row. Each row is
/// (key id, kind, count), for [`KeyCountRow`](crate::rows::KeyCountRow).
pub const KEY_USAGE_SQL: &str = "\
    SELECT key_id, 'meta' AS kind, count(*) AS count FROM vault_meta GROUP BY key_id \
    UNION ALL \
    SELECT key_id, 'credentials' AS kind, count(*) AS count FROM credentials GROUP BY key_id \
    UNION ALL \
    SELECT key_id, 'versions' AS kind, count(*) AS count FROM credential_versions \
    GROUP BY key_id \
    UNION ALL \
    SELECT key_id, 'connections' AS kind, count(*) AS count FROM oauth_connections \
    WHERE key_id IS NOT NULL GROUP BY key_id \
    UNION ALL \
    SELECT key_id, 'webhooks' AS kind, count(*) AS count FROM webhooks GROUP BY key_id";

/// [`KEY_USAGE_SQL`] of one organization's credentials, versions, connections and webhooks
/// (`$1`): meta values belong to no organization. One statement, so the counts are of one
/// snapshot.
pub const ORGANIZATION_KEY_USAGE_SQL: &str = "\
    SELECT key_id, 'credentials' AS kind, count(*) AS count FROM credentials \
    WHERE organization_id = $1 GROUP BY key_id \
    UNION ALL \
    SELECT key_id, 'versions' AS kind, count(*) AS count FROM credential_versions \
    WHERE organization_id = $1 GROUP BY key_id \
    UNION ALL \
    SELECT key_id, 'connections' AS kind, count(*) AS count FROM oauth_connections \
    WHERE organization_id = $1 AND key_id IS NOT NULL GROUP BY key_id \
    UNION ALL \
    SELECT key_id, 'webhooks' AS kind, count(*) AS count FROM webhooks \
    WHERE organization_id = $1 GROUP BY key_id";

/// One retention batch: the oldest entries by the primary key's index (an id range below
/// the cutoff's [`id_floor`](vault_core::logs::id_floor) `$1`, walked in id order, so the
/// scan stops after `LIMIT $3` rows and never reads the newer part of the table), each also
/// older than the cutoff `$2` by its time. One short statement: on PostgreSQL, row locks on
/// those rows only, held for milliseconds, and no lock that inserts of new entries wait on;
/// on SQLite, the single write lock held for a moment only.
pub const PRUNE_REQUEST_LOGS: &str = "\
    DELETE FROM request_logs WHERE id IN ( \
        SELECT id FROM request_logs WHERE id < $1 AND at < $2 ORDER BY id LIMIT $3)";

/// [`PRUNE_REQUEST_LOGS`] for the audit log's events from before chains existed (events of
/// no organization included). Chained events leave only by their chain's cut, which keeps
/// the chain verifiable.
pub const PRUNE_AUDIT_EVENTS: &str = "\
    DELETE FROM audit_events WHERE id IN ( \
        SELECT id FROM audit_events WHERE id < $1 AND at < $2 AND chain_seq IS NULL \
        ORDER BY id LIMIT $3)";

/// [`PRUNE_REQUEST_LOGS`] for the settled webhook deliveries: `$1` the id floor of `$2`
/// the cutoff, `$3` the batch.
pub const PRUNE_WEBHOOK_DELIVERIES: &str = "\
    DELETE FROM webhook_deliveries WHERE id IN ( \
        SELECT id FROM webhook_deliveries \
        WHERE id < $1 AND created_at < $2 AND status <> 'pending' ORDER BY id LIMIT $3)";

/// The condition "the delivery is pending", as SQL text rather than a bound parameter:
/// a prepared statement's generic plan (PostgreSQL's after a few executions) can use the
/// partial index `webhook_deliveries_due` only if the statement itself names its
/// condition.
pub const PENDING_DELIVERY: &str = "webhook_deliveries.status = 'pending'";

#[cfg(test)]
mod tests {
    use vault_core::webhooks::DeliveryStatus;

    use super::*;

    #[test]
    fn the_pending_condition_names_the_pending_status() {
        let pending = format!("'{}'", DeliveryStatus::Pending.as_str());
        assert!(PENDING_DELIVERY.ends_with(&pending), "{PENDING_DELIVERY}");
    }
}
