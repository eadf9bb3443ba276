-- Webhook subscriptions, their deliveries (an outbox the sending job drains) and the expiry
-- reminders already sent. Same tables, same meaning, as migrations/sqlite.

-- One row per subscription. An organization has at most 32: the store counts them in the
-- insert's transaction after locking the organization's row (FOR NO KEY UPDATE, which
-- other tables' foreign-key checks do not wait for), so that of two replicas inserting at
-- once the second counts the first's.
CREATE TABLE webhooks (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    url text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    description text,
    -- vault_core::webhooks::EventType::as_str of each type taken, in the domain's order
    -- (sorted, no repeats), joined by ','. One column: the list is short and always read
    -- whole.
    events text NOT NULL CHECK (length(events) >= 1),
    -- The reminder thresholds in days, descending, joined by ','.
    days_ahead text NOT NULL,
    enabled boolean NOT NULL,
    -- The signing secret, sealed by the cipher, and the id of the key that wrapped it, kept
    -- apart (as in credentials) so a key rotation can count and find rows per key.
    sealed bytea NOT NULL,
    key_id text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- An organization's subscriptions, in id order.
CREATE INDEX webhooks_organization_id ON webhooks (organization_id, id);

-- One row per event and subscription. Deleted with the subscription (ON DELETE CASCADE:
-- deleting a subscription deletes its deliveries by contract, and the
-- webhook_deliveries_webhook_id index finds them). organization_id is the subscription's,
-- copied so that every read filters by it as reads of other tables do.
CREATE TABLE webhook_deliveries (
    id uuid PRIMARY KEY,
    webhook_id uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    organization_id uuid NOT NULL,
    -- The Standard Webhooks message id, the same on every attempt and replay.
    message_id text NOT NULL,
    event_type text NOT NULL,
    -- The JSON body sent.
    payload json NOT NULL,
    -- vault_core::webhooks::DeliveryStatus::as_str.
    status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts integer NOT NULL CHECK (attempts >= 0),
    next_attempt_at timestamptz,
    last_attempt_at timestamptz,
    response_status integer,
    error text,
    -- The delivery this one replays (of the same subscription, so deleted with it).
    replay_of uuid,
    created_at timestamptz NOT NULL
);

-- The sending job's scan: pending deliveries by due time, then id (its order whole).
-- Partial, so the deliveries done (most of them, kept for listing) take no room in it.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id)
    WHERE status = 'pending';
-- A subscription's deliveries, newest first (ids are UUID v7).
CREATE INDEX webhook_deliveries_webhook_id ON webhook_deliveries (webhook_id, id);

-- Each expiry reminder sent: at most once per subscription, subject, deadline and threshold
-- (0: expired). The store inserts the row (ON CONFLICT DO NOTHING) and its delivery in one
-- transaction: of replicas racing on one reminder, the others wait for the first's key
-- lock, then insert nothing. Deleted with the subscription.
CREATE TABLE webhook_reminders (
    webhook_id uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    subject_kind text NOT NULL CHECK (subject_kind IN ('credential', 'access_key')),
    subject_id uuid NOT NULL,
    expires_at timestamptz NOT NULL,
    days_ahead integer NOT NULL CHECK (days_ahead BETWEEN 0 AND 365),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (webhook_id, subject_kind, subject_id, expires_at, days_ahead)
);

-- The audit log names four more actions: the subscriptions' changes and replays. Adding
-- the check scans the existing rows once (all pass: the list only grew), under the
-- migration's lock.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (
    action IN (
        'credential.create', 'credential.update', 'credential.delete', 'credential.use',
        'access_key.create', 'access_key.revoke', 'authentication.failure',
        'grant.create', 'grant.revoke',
        'connection.connect', 'connection.lost', 'connection.revoke',
        'keyring.rotate', 'keyring.rewrap', 'keyring.migrate',
        'webhook.create', 'webhook.update', 'webhook.delete', 'webhook.replay'
    )
);
