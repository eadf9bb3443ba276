-- The audit log's hash chains (issue 20). Every organization's events form one chain, the
-- installation's (no organization) another. The store links each event as it writes it,
-- on its writer thread, inside the transaction that inserts it: the chain's number, the
-- digest of the event's canonical form, the hash of the event before it and its own hash
-- (vault-audit's hashing.rs says how each is computed). Same columns and tables, same
-- meaning, as migrations/postgres.
--
-- The four columns are NULL on every event written before this migration: those events
-- stay unchained, and verification counts them apart. New columns are nullable, so they are
-- added in place (no rebuild); SQLite checks an added CHECK against the rows already there.
ALTER TABLE audit_events ADD COLUMN digest BLOB
    CHECK (digest IS NULL OR length(digest) = 32);
ALTER TABLE audit_events ADD COLUMN chain_seq INTEGER
    CHECK (chain_seq IS NULL OR chain_seq >= 1);
ALTER TABLE audit_events ADD COLUMN previous_hash BLOB
    CHECK (previous_hash IS NULL OR length(previous_hash) = 32);
-- A link is whole or absent, and a linked event has its digest. Checked on the last column
-- added (a column's CHECK may name the others), so that down.sql, dropping it first, drops
-- the check with it.
ALTER TABLE audit_events ADD COLUMN chain_hash BLOB
    CHECK (chain_hash IS NULL OR length(chain_hash) = 32)
    CHECK (
        (chain_seq IS NULL) = (previous_hash IS NULL)
        AND (chain_seq IS NULL) = (chain_hash IS NULL)
        AND (chain_seq IS NULL OR digest IS NOT NULL)
    );

-- No two events of a chain share a number; and a chain read in number order
-- (`chain_events`, the verifier's walk) or cut up to a number is a range of this index.
CREATE UNIQUE INDEX audit_events_organization_chain_seq
    ON audit_events (organization_id, chain_seq) WHERE chain_seq IS NOT NULL;
-- The same for the installation's chain: a unique index holds NULLs distinct, so the one
-- above does not hold two events of no organization apart.
CREATE UNIQUE INDEX audit_events_installation_chain_seq
    ON audit_events (chain_seq) WHERE organization_id IS NULL AND chain_seq IS NOT NULL;

-- Each chain's last event: its number, hash and previous hash. The writer reads it to link
-- the next event and updates it in the same transaction, so a write rolled back takes
-- the update with it. chain_key is the organization's id, or the nil UUID for the
-- installation's chain (no foreign key, for that reason).
CREATE TABLE audit_chain_heads (
    chain_key BLOB PRIMARY KEY NOT NULL CHECK (length(chain_key) = 16),
    seq INTEGER NOT NULL CHECK (seq >= 1),
    hash BLOB NOT NULL CHECK (length(hash) = 32),
    previous_hash BLOB NOT NULL CHECK (length(previous_hash) = 32)
) STRICT;

-- Signed statements that a chain reached (seq, hash) at a time: periodic ones, and those of
-- retention's cuts, from which verification starts once the events before are deleted.
-- One per chain and number: a second is refused (the first kept), but a retention cut's
-- replaces the one at its number, so that every cut is on record.
CREATE TABLE audit_checkpoints (
    chain_key BLOB NOT NULL CHECK (length(chain_key) = 16),
    seq INTEGER NOT NULL CHECK (seq >= 1),
    hash BLOB NOT NULL CHECK (length(hash) = 32),
    at INTEGER NOT NULL,
    -- vault_core::audit_chain::CheckpointKind::as_str.
    kind TEXT NOT NULL CHECK (kind IN ('periodic', 'retention')),
    key_id TEXT NOT NULL CHECK (length(key_id) BETWEEN 1 AND 255),
    signature BLOB NOT NULL CHECK (length(signature) >= 1),
    PRIMARY KEY (chain_key, seq)
) STRICT;
