-- OAuth2 connections (issue 18): the tokens an `oauth2` credential with the
-- authorization-code grant holds once a user connected it, and the connect flows in
-- progress. Same tables, same meaning, as migrations/postgres.

-- One row per connected credential (a credential never connected has none). Deleted with
-- the credential, by the store, in the same transaction.
CREATE TABLE oauth_connections (
    credential_id BLOB PRIMARY KEY NOT NULL REFERENCES credentials (id),
    organization_id BLOB NOT NULL REFERENCES organizations (id),
    -- vault_core::connections::ConnectionStatus::as_str ('pending' is the absence of a row).
    status TEXT NOT NULL CHECK (status IN ('connected', 'needs-reconnect')),
    -- Incremented by every write of new tokens, which is a compare-and-set on it; the tokens
    -- are sealed bound to it. Where it starts is the vault's business.
    generation INTEGER NOT NULL CHECK (generation >= 0),
    -- The tokens, sealed by the cipher, and the id of the key that wrapped them, kept apart
    -- (as in credentials) so a key rotation can count and find rows per key. Both NULL once
    -- the provider refused the tokens.
    sealed BLOB,
    key_id TEXT,
    access_expires_at INTEGER,
    -- A refresh in flight: the holder's random id and when others may take it over. Taken
    -- by one conditional UPDATE (the writer thread runs one at a time), so of callers racing
    -- for it exactly one gets it.
    lease_holder BLOB CHECK (lease_holder IS NULL OR length(lease_holder) = 16),
    lease_until INTEGER,
    -- Why it needs a reconnect: the provider's OAuth2 error code.
    reason TEXT,
    connected_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK ((sealed IS NULL) = (key_id IS NULL)),
    CHECK ((lease_holder IS NULL) = (lease_until IS NULL))
) STRICT;

-- Rewrap after a key rotation: the rows still sealed under an old key.
CREATE INDEX oauth_connections_key_id ON oauth_connections (key_id);

-- Connect flows in progress: single use (taken by a DELETE that only one caller's can
-- remove), short-lived. Only a keyed hash of the `state` parameter is stored, never the
-- state itself. Expired rows are deleted as new ones are stored, so the table holds the
-- flows of the last few minutes only: its other columns need no index.
CREATE TABLE oauth_connect_states (
    state_hash BLOB PRIMARY KEY NOT NULL CHECK (length(state_hash) = 32),
    organization_id BLOB NOT NULL REFERENCES organizations (id),
    -- Deleted with the credential, by the store, in the same transaction.
    credential_id BLOB NOT NULL REFERENCES credentials (id),
    -- The access key that started it. Not a foreign key, as grants.granted_by: revoking
    -- the key deletes the states it started (the store does, in the same transaction).
    access_key_id BLOB CHECK (access_key_id IS NULL OR length(access_key_id) = 16),
    -- The identity-provider subject that started it.
    subject TEXT,
    redirect_uri TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

-- Deleting the expired flows.
CREATE INDEX oauth_connect_states_expires_at ON oauth_connect_states (expires_at);

-- The audit log names three more actions. SQLite changes a CHECK only by rebuilding the
-- table; nothing refers to it, so it is copied, dropped and renamed back, with every
-- column it has by now (via, of the use-all migration, included) and its indexes made
-- again as they were.
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
            'connection.connect', 'connection.lost', 'connection.revoke'
        )
    ),
    target BLOB CHECK (target IS NULL OR length(target) = 16),
    outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    reason TEXT,
    at INTEGER NOT NULL,
    actor_subject TEXT
        CHECK (actor_subject IS NULL OR length(actor_subject) BETWEEN 1 AND 255),
    occurrences INTEGER NOT NULL DEFAULT 1,
    via TEXT
) STRICT;
INSERT INTO audit_events_rebuilt (
    id, organization_id, actor, action, target, outcome, reason, at, actor_subject,
    occurrences, via
)
SELECT id, organization_id, actor, action, target, outcome, reason, at, actor_subject,
    occurrences, via
FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_rebuilt RENAME TO audit_events;
CREATE INDEX audit_events_organization_id ON audit_events (organization_id, id);
CREATE INDEX audit_events_organization_action_id ON audit_events (organization_id, action, id);
CREATE INDEX audit_events_organization_target_id ON audit_events (organization_id, target, id);
