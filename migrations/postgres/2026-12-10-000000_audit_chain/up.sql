-- The audit log's hash chains (issue 20). Every organization's events form one chain, the
-- installation's (no organization) another. Same columns and tables, same meaning, as
-- migrations/sqlite; but here the database links each event itself, in a trigger, inside
-- the transaction that inserts it (see vault_audit_chain below), so that every way the
-- vault writes an event is chained without a round trip more, and several replicas on one
-- database make one gapless chain whose order is the database's.
--
-- The four columns are NULL on every event written before this migration: those events
-- stay unchained, and verification counts them apart. Nullable columns without a default
-- are catalog changes only (no table rewrite).
ALTER TABLE audit_events
    -- The SHA-256 of the event's canonical form, computed by the vault (vault-audit's
    -- hashing.rs) as it encodes the row: SQL cannot rebuild that form.
    ADD COLUMN digest bytea,
    -- The event's number in its chain, the hash of the event before it, and its own hash:
    -- set by the trigger, never by the caller.
    ADD COLUMN chain_seq bigint,
    ADD COLUMN previous_hash bytea,
    ADD COLUMN chain_hash bytea;

-- Hashes of 32 bytes, numbers from 1, and a link whole or absent (NULL passes a CHECK, so
-- each conjunct holds for an unchained row). NOT VALID: every row already there has NULL
-- in all four (the columns are new), so there is nothing to check, and skipping the scan
-- keeps audit_events, the largest table, locked for less time. New and updated rows are
-- checked all the same.
ALTER TABLE audit_events
    ADD CONSTRAINT audit_events_chain_hashes_check CHECK (
        octet_length(digest) = 32
        AND octet_length(previous_hash) = 32
        AND octet_length(chain_hash) = 32
        AND chain_seq >= 1
    ) NOT VALID,
    ADD CONSTRAINT audit_events_chain_link_check CHECK (
        (chain_seq IS NULL) = (previous_hash IS NULL)
        AND (chain_seq IS NULL) = (chain_hash IS NULL)
        AND (chain_seq IS NULL OR digest IS NOT NULL)
    ) NOT VALID;

-- No two events of a chain share a number; and a chain read in number order
-- (`chain_events`, the verifier's walk) or cut up to a number is a range of this index.
CREATE UNIQUE INDEX audit_events_organization_chain_seq
    ON audit_events (organization_id, chain_seq) WHERE chain_seq IS NOT NULL;
-- The same for the installation's chain: a unique index holds NULLs distinct, so the one
-- above does not hold two events of no organization apart. (NULLS NOT DISTINCT would do it
-- in one index, but needs PostgreSQL 15, and the vault names no minimum version.)
CREATE UNIQUE INDEX audit_events_installation_chain_seq
    ON audit_events (chain_seq) WHERE organization_id IS NULL AND chain_seq IS NOT NULL;

-- Each chain's last event: its number, hash and previous hash. chain_key is the
-- organization's id, or the nil UUID for the installation's chain (so no foreign key).
-- The trigger updates a chain's row with every event, and that row's lock, held to the
-- commit, is what orders the chain's events. Every update changes no indexed column: with
-- room left in each page (fillfactor) they stay HOT, and pruning the page reclaims the old
-- row versions without a vacuum.
CREATE TABLE audit_chain_heads (
    chain_key uuid PRIMARY KEY,
    seq bigint NOT NULL CHECK (seq >= 1),
    hash bytea NOT NULL CHECK (octet_length(hash) = 32),
    previous_hash bytea NOT NULL CHECK (octet_length(previous_hash) = 32)
) WITH (fillfactor = 50);

-- Signed statements that a chain reached (seq, hash) at a time: periodic ones, and those of
-- retention's cuts, from which verification starts once the events before are deleted.
-- One per chain and number: a second is refused (and the first kept).
CREATE TABLE audit_checkpoints (
    chain_key uuid NOT NULL,
    seq bigint NOT NULL CHECK (seq >= 1),
    hash bytea NOT NULL CHECK (octet_length(hash) = 32),
    at timestamptz NOT NULL,
    -- vault_core::audit_chain::CheckpointKind::as_str.
    kind text NOT NULL CHECK (kind IN ('periodic', 'retention')),
    key_id text NOT NULL CHECK (char_length(key_id) BETWEEN 1 AND 255),
    signature bytea NOT NULL CHECK (octet_length(signature) >= 1),
    PRIMARY KEY (chain_key, seq)
);

-- Links an event as it is inserted, byte for byte as vault-audit's hashing.rs `link`:
--   hash = SHA-256('vault-audit-link-v1' || previous hash (32 bytes)
--                  || number (8 bytes, big-endian: int8send) || digest (32 bytes)),
-- the first event of a chain numbered 1 after 32 zero bytes.
--
-- One statement advances the chain's head, or creates it for the chain's first event:
-- INSERT ... ON CONFLICT DO UPDATE either inserts the row or locks the existing one and
-- updates it, whatever runs at the same time, so two first events of a chain never both
-- become number 1. In SET (and RETURNING) `head` is the row as it was (SET) and as it is
-- (RETURNING). A writer that finds the row locked waits for the holder's commit, then
-- updates the version it committed: numbers follow commit order, with no gap, and a
-- transaction rolled back takes its head update, and so its number, with it.
--
-- The row lock is held to the commit, so a transaction takes it last (the vault's do: the
-- audit insert is each transaction's last statement, and a batch of events inserts them in
-- chain order), and never waits for a lock another writer of the chain may hold.
--
-- Whatever the caller sent in chain_seq, previous_hash and chain_hash is overwritten. A row
-- without a 32-byte digest is refused: an event the chain cannot vouch for is not written
-- (a replica of an older release, which sends none, fails its audit writes until it is
-- upgraded, rather than leaving unchained events among chained ones).
CREATE FUNCTION vault_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    -- vault-audit's LINK_LABEL: the ASCII of 'vault-audit-link-v1'.
    label CONSTANT bytea := '\x7661756c742d61756469742d6c696e6b2d7631'::bytea;
    genesis CONSTANT bytea := decode(repeat('00', 32), 'hex');
    chain uuid := coalesce(NEW.organization_id, '00000000-0000-0000-0000-000000000000');
BEGIN
    IF octet_length(NEW.digest) IS DISTINCT FROM 32 THEN
        RAISE EXCEPTION 'audit event % has no 32-byte digest', NEW.id
            USING ERRCODE = 'check_violation', TABLE = 'audit_events', COLUMN = 'digest';
    END IF;
    INSERT INTO audit_chain_heads AS head (chain_key, seq, hash, previous_hash)
    VALUES (chain, 1, sha256(label || genesis || int8send(1::bigint) || NEW.digest), genesis)
    ON CONFLICT (chain_key) DO UPDATE
    SET seq = head.seq + 1,
        previous_hash = head.hash,
        hash = sha256(label || head.hash || int8send(head.seq + 1) || NEW.digest)
    RETURNING head.seq, head.previous_hash, head.hash
    INTO NEW.chain_seq, NEW.previous_hash, NEW.chain_hash;
    RETURN NEW;
END
$$;

CREATE TRIGGER vault_audit_chain BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION vault_audit_chain();
