-- Webhook subscriptions, their deliveries (an outbox the sending job drains) and the expiry
-- reminders already sent. Same tables, same meaning, as migrations/postgres.

-- One row per subscription (an organization has at most 32: the store counts them in the
-- insert's transaction, which the writer thread runs alone).
CREATE TABLE webhooks (
    id BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    organization_id BLOB NOT NULL REFERENCES organizations (id),
    url TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    description TEXT,
    -- vault_core::webhooks::EventType::as_str of each type taken, in the domain's order
    -- (sorted, no repeats), joined by ','. One column: the list is short and always read
    -- whole.
    events TEXT NOT NULL CHECK (length(events) >= 1),
    -- The reminder thresholds in days, descending, joined by ','.
    days_ahead TEXT NOT NULL,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    -- The signing secret, sealed by the cipher, and the id of the key that wrapped it, kept
    -- apart (as in credentials) so a key rotation can count and find rows per key.
    sealed BLOB NOT NULL,
    key_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- An organization's subscriptions, in id order.
CREATE INDEX webhooks_organization_id ON webhooks (organization_id, id);

-- One row per event and subscription. Deleted with the subscription (ON DELETE CASCADE:
-- deleting a subscription deletes its deliveries by contract, and the
-- webhook_deliveries_webhook_id index finds them). organization_id is the subscription's,
-- copied so that every read filters by it as reads of other tables do.
CREATE TABLE webhook_deliveries (
    id BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    webhook_id BLOB NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    organization_id BLOB NOT NULL CHECK (length(organization_id) = 16),
    -- The Standard Webhooks message id, the same on every attempt and replay.
    message_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    -- The JSON body sent.
    payload TEXT NOT NULL,
    -- vault_core::webhooks::DeliveryStatus::as_str.
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts INTEGER NOT NULL CHECK (attempts >= 0),
    next_attempt_at INTEGER,
    last_attempt_at INTEGER,
    response_status INTEGER,
    error TEXT,
    -- The delivery this one replays (of the same subscription, so deleted with it).
    replay_of BLOB CHECK (replay_of IS NULL OR length(replay_of) = 16),
    created_at INTEGER NOT NULL
) STRICT;

-- The sending job's scan: pending deliveries by due time, then id (its order whole).
-- Partial, so the deliveries done (most of them, kept for listing) take no room in it.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id)
    WHERE status = 'pending';
-- A subscription's deliveries, newest first (ids are UUID v7).
CREATE INDEX webhook_deliveries_webhook_id ON webhook_deliveries (webhook_id, id);

-- Each expiry reminder sent: at most once per subscription, subject, deadline and threshold
-- (0: expired). The store inserts the row and its delivery in one transaction, and a row
-- already there (another replica's) makes it insert neither. Deleted with the subscription.
CREATE TABLE webhook_reminders (
    webhook_id BLOB NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('credential', 'access_key')),
    subject_id BLOB NOT NULL CHECK (length(subject_id) = 16),
    expires_at INTEGER NOT NULL,
    days_ahead INTEGER NOT NULL CHECK (days_ahead BETWEEN 0 AND 365),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (webhook_id, subject_kind, subject_id, expires_at, days_ahead)
) STRICT;

-- The audit log names four more actions: the subscriptions' changes and replays. SQLite
-- changes a CHECK only by rebuilding the table; nothing refers to it, so it is copied,
-- dropped and renamed back, with every column (the chain's, with their checks as the
-- audit-chain migration added them, so its down.sql still drops them) and index it has by
-- now.
CREATE TABLE audit_events_rebuilt (
    id BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    organization_id BLOB REFERENCES organizations (id),
    actor BLOB CHECK (actor IS NULL OR length(actor) = 16),
    -- vault_core::logs::AuditAction::as_str. A new action needs a migration that widens
    -- this list, which is the point: a row this schema cannot name is refused on write.
    action TEXT NOT NULL CHECK (
        action IN (
            'credential.create', 'credential.update', 'credential.delete', 'credential.use',
            'access_key.create', 'access_key.revoke', 'authentication.failure',
            'grant.create', 'grant.revoke',
            'connection.connect', 'connection.lost', 'connection.revoke',
            'keyring.rotate', 'keyring.rewrap', 'keyring.migrate',
            'webhook.create', 'webhook.update', 'webhook.delete', 'webhook.replay'
        )
    ),
    target BLOB CHECK (target IS NULL OR length(target) = 16),
    outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    reason TEXT,
    at INTEGER NOT NULL,
    actor_subject TEXT
        CHECK (actor_subject IS NULL OR length(actor_subject) BETWEEN 1 AND 255),
    occurrences INTEGER NOT NULL DEFAULT 1,
    via TEXT,
    digest BLOB CHECK (digest IS NULL OR length(digest) = 32),
    chain_seq INTEGER CHECK (chain_seq IS NULL OR chain_seq >= 1),
    previous_hash BLOB CHECK (previous_hash IS NULL OR length(previous_hash) = 32),
    chain_hash BLOB
        CHECK (chain_hash IS NULL OR length(chain_hash) = 32)
        CHECK (
            (chain_seq IS NULL) = (previous_hash IS NULL)
            AND (chain_seq IS NULL) = (chain_hash IS NULL)
            AND (chain_seq IS NULL OR digest IS NOT NULL)
        )
) STRICT;
INSERT INTO audit_events_rebuilt (
    id, organization_id, actor, action, target, outcome, reason, at, actor_subject,
    occurrences, via, digest, chain_seq, previous_hash, chain_hash
)
SELECT id, organization_id, actor, action, target, outcome, reason, at, actor_subject,
    occurrences, via, digest, chain_seq, previous_hash, chain_hash
FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_rebuilt RENAME TO audit_events;
CREATE INDEX audit_events_organization_id ON audit_events (organization_id, id);
CREATE INDEX audit_events_organization_action_id ON audit_events (organization_id, action, id);
CREATE INDEX audit_events_organization_target_id ON audit_events (organization_id, target, id);
CREATE UNIQUE INDEX audit_events_organization_chain_seq
    ON audit_events (organization_id, chain_seq) WHERE chain_seq IS NOT NULL;
CREATE UNIQUE INDEX audit_events_installation_chain_seq
    ON audit_events (chain_seq) WHERE organization_id IS NULL AND chain_seq IS NOT NULL;
