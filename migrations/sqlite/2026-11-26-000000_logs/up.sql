-- allowedHosts, the request log and the audit log (SQLite). Same conventions as the
-- initial migration: UUIDs as 16-byte BLOBs, times as Unix microseconds, STRICT tables.

-- Where a credential may be sent: a JSON array of entries (host, host:port, or an
-- http(s) origin). Empty means nowhere, so credentials stored before this migration are
-- refused by the egress until someone names their hosts: a credential is never sent to a
-- destination nobody chose. ADD COLUMN needs a default for a NOT NULL column anyway.
ALTER TABLE credentials ADD COLUMN allowed_hosts TEXT NOT NULL DEFAULT '[]';

-- One row per proxied request. Append-only history: credential_id and access_key_id are
-- deliberately NOT foreign keys, so a credential's (or key's) log stays readable after the
-- credential is deleted, and deleting one never has to touch, or wait on, its log. The
-- credential's name is copied in for the same reason. No secret, no query string.
-- The organization is a foreign key, as in every other table, and as there
-- without a cascade: nothing deletes an organization's history behind anyone's back.
CREATE TABLE request_logs (
    id BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    organization_id BLOB NOT NULL REFERENCES organizations (id),
    credential_id BLOB NOT NULL CHECK (length(credential_id) = 16),
    credential_name TEXT NOT NULL,
    method TEXT NOT NULL,
    host TEXT NOT NULL,
    path TEXT NOT NULL,
    -- The upstream's status when it answered (an HTTP status, stored from a u16), or the
    -- error code saying why it did not.
    status INTEGER CHECK (status IS NULL OR status BETWEEN 0 AND 65535),
    error TEXT,
    latency_micros INTEGER NOT NULL,
    at INTEGER NOT NULL,
    access_key_id BLOB CHECK (access_key_id IS NULL OR length(access_key_id) = 16)
) STRICT;

-- An organization's log, newest first (ids are UUID v7, so id order is time order; SQLite
-- walks the index backwards for ORDER BY id DESC).
CREATE INDEX request_logs_organization_id ON request_logs (organization_id, id);
-- One credential's log, newest first.
CREATE INDEX request_logs_organization_credential_id
    ON request_logs (organization_id, credential_id, id);

-- One row per change, use, key issue or revocation, and failed authentication.
-- organization_id is NULL for a failed authentication with a key nobody knows; actor and
-- target are not foreign keys, for the same reason as in request_logs.
CREATE TABLE audit_events (
    id BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    organization_id BLOB REFERENCES organizations (id),
    actor BLOB CHECK (actor IS NULL OR length(actor) = 16),
    -- vault_core::logs::AuditAction::as_str. A new action needs a migration that widens
    -- this list, which is the point: a row this schema cannot name is refused on write.
    action TEXT NOT NULL CHECK (
        action IN (
            'credential.create', 'credential.update', 'credential.delete', 'credential.use',
            'access_key.create', 'access_key.revoke', 'authentication.failure'
        )
    ),
    target BLOB CHECK (target IS NULL OR length(target) = 16),
    outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    reason TEXT,
    at INTEGER NOT NULL
) STRICT;

-- An organization's events, newest first.
CREATE INDEX audit_events_organization_id ON audit_events (organization_id, id);
-- Filtered by action.
CREATE INDEX audit_events_organization_action_id ON audit_events (organization_id, action, id);
-- Filtered by target (one credential's or key's history).
CREATE INDEX audit_events_organization_target_id ON audit_events (organization_id, target, id);
