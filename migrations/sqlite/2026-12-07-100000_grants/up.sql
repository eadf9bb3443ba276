-- Grants (issue 17): who may use which credential, for which requests, how much.
-- Same tables, same meaning, as migrations/postgres.
CREATE TABLE grants (
    id BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    organization_id BLOB NOT NULL REFERENCES organizations (id),
    -- Deleted with the credential, by the store, in the same transaction.
    credential_id BLOB NOT NULL REFERENCES credentials (id),
    -- vault_core::grants::Grantee as written: key:<id>, subject:<sub> or group:<name>.
    grantee TEXT NOT NULL CHECK (
        grantee GLOB 'key:?*' OR grantee GLOB 'subject:?*' OR grantee GLOB 'group:?*'
    ),
    permission TEXT NOT NULL CHECK (permission IN ('use', 'manage')),
    -- vault_core::grants::RequestRules and Budget, as JSON.
    rules TEXT NOT NULL,
    budget TEXT,
    expires_at INTEGER,
    -- The access key that granted it. Not a foreign key: the grant ends with the key's
    -- revocation, which the vault checks, and history outlives keys.
    granted_by BLOB CHECK (granted_by IS NULL OR length(granted_by) = 16),
    created_at INTEGER NOT NULL
) STRICT;

-- One credential's grants, and one grantee's, in id order.
CREATE INDEX grants_organization_credential_id ON grants (organization_id, credential_id, id);
CREATE INDEX grants_organization_grantee_id ON grants (organization_id, grantee, id);

-- Requests counted against a grant's budget, per window: one row per grant, window
-- length and window start (a Unix second; 0 for the grant's whole life). The writer
-- thread runs one spend at a time, so reading a count and adding to it cannot interleave.
CREATE TABLE grant_usage (
    grant_id BLOB NOT NULL REFERENCES grants (id),
    time_window TEXT NOT NULL CHECK (time_window IN ('minute', 'hour', 'day', 'total')),
    window_start INTEGER NOT NULL,
    used INTEGER NOT NULL CHECK (used >= 1),
    PRIMARY KEY (grant_id, time_window, window_start)
) STRICT;

-- The audit log names two more actions. SQLite changes a CHECK only by rebuilding the
-- table; nothing refers to it, so it is copied, dropped and renamed back, with its
-- indexes made again as they were.
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
            'grant.create', 'grant.revoke'
        )
    ),
    target BLOB CHECK (target IS NULL OR length(target) = 16),
    outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    reason TEXT,
    at INTEGER NOT NULL,
    actor_subject TEXT
        CHECK (actor_subject IS NULL OR length(actor_subject) BETWEEN 1 AND 255),
    occurrences INTEGER NOT NULL DEFAULT 1
) STRICT;
INSERT INTO audit_events_rebuilt (
    id, organization_id, actor, action, target, outcome, reason, at, actor_subject, occurrences
)
SELECT id, organization_id, actor, action, target, outcome, reason, at, actor_subject, occurrences
FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_rebuilt RENAME TO audit_events;
CREATE INDEX audit_events_organization_id ON audit_events (organization_id, id);
CREATE INDEX audit_events_organization_action_id ON audit_events (organization_id, action, id);
CREATE INDEX audit_events_organization_target_id ON audit_events (organization_id, target, id);
