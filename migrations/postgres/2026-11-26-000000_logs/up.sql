-- allowedHosts, the request log and the audit log: the same tables, with the same meaning,
-- as migrations/sqlite, in PostgreSQL's own types (uuid, timestamptz, json; see the initial
-- migration for why json and not jsonb).

-- Where a credential may be sent: a JSON array of entries (host, host:port, or an
-- http(s) origin). Empty means nowhere, so credentials stored before this migration are
-- refused by the egress until someone names their hosts: a credential is never sent to a
-- destination nobody chose. A constant default is only recorded in the catalog (no table
-- rewrite, no long lock on a large table).
ALTER TABLE credentials ADD COLUMN allowed_hosts json NOT NULL DEFAULT '[]';

-- One row per proxied request. Append-only history: credential_id and access_key_id are
-- deliberately NOT foreign keys, so a credential's (or key's) log stays readable after the
-- credential is deleted, and deleting one never has to touch, or lock, its log. The
-- credential's name is copied in for the same reason. No secret, no query string.
-- The organization is a foreign key, as in every other table, and as there
-- without a cascade: nothing deletes an organization's history behind anyone's back.
CREATE TABLE request_logs (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    credential_id uuid NOT NULL,
    credential_name text NOT NULL,
    method text NOT NULL,
    host text NOT NULL,
    path text NOT NULL,
    -- The upstream's status when it answered (an HTTP status, stored from a u16: integer,
    -- since smallint stops at 32767), or the error code saying why it did not.
    status integer CHECK (status BETWEEN 0 AND 65535),
    error text,
    latency_micros bigint NOT NULL,
    at timestamptz NOT NULL,
    access_key_id uuid
);

-- An organization's log, newest first (ids are UUID v7, so id order is time order; a
-- B-tree is read backwards for ORDER BY id DESC as cheaply as forwards).
CREATE INDEX request_logs_organization_id ON request_logs (organization_id, id);
-- One credential's log, newest first.
CREATE INDEX request_logs_organization_credential_id
    ON request_logs (organization_id, credential_id, id);

-- One row per change, use, key issue or revocation, and failed authentication.
-- organization_id is NULL for a failed authentication with a key nobody knows; actor and
-- target are not foreign keys, for the same reason as in request_logs.
CREATE TABLE audit_events (
    id uuid PRIMARY KEY,
    organization_id uuid REFERENCES organizations (id),
    actor uuid,
    -- vault_core::logs::AuditAction::as_str. A new action needs a migration that replaces
    -- this (named) constraint, which is the point: a row this schema cannot name is refused
    -- on write.
    action text NOT NULL CONSTRAINT audit_events_action_check CHECK (
        action IN (
            'credential.create', 'credential.update', 'credential.delete', 'credential.use',
            'access_key.create', 'access_key.revoke', 'authentication.failure'
        )
    ),
    target uuid,
    outcome text NOT NULL CONSTRAINT audit_events_outcome_check CHECK (
        outcome IN ('success', 'failure')
    ),
    reason text,
    at timestamptz NOT NULL
);

-- An organization's events, newest first.
CREATE INDEX audit_events_organization_id ON audit_events (organization_id, id);
-- Filtered by action.
CREATE INDEX audit_events_organization_action_id ON audit_events (organization_id, action, id);
-- Filtered by target (one credential's or key's history).
CREATE INDEX audit_events_organization_target_id ON audit_events (organization_id, target, id);
