-- OAuth2 connections (issue 18): the tokens an `oauth2` credential with the
-- authorization-code grant holds once a user connected it, and the connect flows in
-- progress. Same tables, same meaning, as migrations/sqlite.

-- One row per connected credential (a credential never connected has none). Deleted with
-- the credential, by the store, in the same transaction.
CREATE TABLE oauth_connections (
    credential_id uuid PRIMARY KEY REFERENCES credentials (id),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    -- vault_core::connections::ConnectionStatus::as_str ('pending' is the absence of a row).
    status text NOT NULL CHECK (status IN ('connected', 'needs-reconnect')),
    -- Incremented by every write of new tokens, which is a compare-and-set on it; the tokens
    -- are sealed bound to it. Where it starts is the vault's business.
    generation bigint NOT NULL CHECK (generation >= 0),
    -- The tokens, sealed by the cipher, and the id of the key that wrapped them, kept apart
    -- (as in credentials) so a key rotation can count and find rows per key. Both NULL once
    -- the provider refused the tokens.
    sealed bytea,
    key_id text,
    access_expires_at timestamptz,
    -- A refresh in flight: the holder's random id and when others may take it over. Taken
    -- by one conditional UPDATE, so of replicas racing for it exactly one gets it, and no
    -- lock is held while the token endpoint is called.
    lease_holder uuid,
    lease_until timestamptz,
    -- Why it needs a reconnect: the provider's OAuth2 error code.
    reason text,
    connected_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT oauth_connections_sealed_check CHECK ((sealed IS NULL) = (key_id IS NULL)),
    CONSTRAINT oauth_connections_lease_check
        CHECK ((lease_holder IS NULL) = (lease_until IS NULL))
);

-- Rewrap after a key rotation: the rows still sealed under an old key.
CREATE INDEX oauth_connections_key_id ON oauth_connections (key_id);

-- Connect flows in progress: single use (taken by a DELETE that only one caller's can
-- remove), short-lived. Only a keyed hash of the `state` parameter is stored, never the
-- state itself. Expired rows are deleted as new ones are stored, so the table holds the
-- flows of the last few minutes only: its other columns need no index.
CREATE TABLE oauth_connect_states (
    state_hash bytea PRIMARY KEY CHECK (length(state_hash) = 32),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    -- Deleted with the credential, by the store, in the same transaction.
    credential_id uuid NOT NULL REFERENCES credentials (id),
    -- The access key that started it. Not a foreign key, as grants.granted_by: revoking
    -- the key deletes the states it started (the store does, in the same transaction).
    access_key_id uuid,
    -- The identity-provider subject that started it.
    subject text,
    redirect_uri text NOT NULL,
    expires_at timestamptz NOT NULL
);

-- Deleting the expired flows.
CREATE INDEX oauth_connect_states_expires_at ON oauth_connect_states (expires_at);

-- The audit log names three more actions. Adding the check scans the existing rows once
-- (all pass: the list only grew), under the migration's lock.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (
    action IN (
        'credential.create', 'credential.update', 'credential.delete', 'credential.use',
        'access_key.create', 'access_key.revoke', 'authentication.failure',
        'grant.create', 'grant.revoke',
        'connection.connect', 'connection.lost', 'connection.revoke'
    )
);
