-- Grants (issue 17): who may use which credential, for which requests, how much.
-- Same tables, same meaning, as migrations/sqlite.
CREATE TABLE grants (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    -- Deleted with the credential, by the store, in the same transaction.
    credential_id uuid NOT NULL REFERENCES credentials (id),
    -- vault_core::grants::Grantee as written: key:<id>, subject:<sub> or group:<name>.
    grantee text NOT NULL CHECK (grantee ~ '^(key|subject|group):.'),
    permission text NOT NULL CHECK (permission IN ('use', 'manage')),
    -- vault_core::grants::RequestRules and Budget, as JSON.
    rules json NOT NULL,
    budget json,
    expires_at timestamptz,
    -- The access key that granted it. Not a foreign key: the grant ends with the key's
    -- revocation, which the vault checks, and history outlives keys.
    granted_by uuid,
    created_at timestamptz NOT NULL
);

-- One credential's grants, and one grantee's, in id order.
CREATE INDEX grants_organization_credential_id ON grants (organization_id, credential_id, id);
CREATE INDEX grants_organization_grantee_id ON grants (organization_id, grantee, id);

-- Requests counted against a grant's budget, per window: one row per grant, window
-- length and window start (a Unix second; 0 for the grant's whole life). A spend adds one
-- only while the row is under the cap, in one statement per row, so that replicas
-- counting at once never pass it.
CREATE TABLE grant_usage (
    grant_id uuid NOT NULL REFERENCES grants (id),
    time_window text NOT NULL CHECK (time_window IN ('minute', 'hour', 'day', 'total')),
    window_start bigint NOT NULL,
    used bigint NOT NULL CHECK (used >= 1),
    PRIMARY KEY (grant_id, time_window, window_start)
);

-- The audit log names two more actions. Adding the check scans the existing rows once
-- (all pass: the list only grew), under the migration's lock.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (
    action IN (
        'credential.create', 'credential.update', 'credential.delete', 'credential.use',
        'access_key.create', 'access_key.revoke', 'authentication.failure',
        'grant.create', 'grant.revoke'
    )
);
