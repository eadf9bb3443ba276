-- Credential writes that do not queue behind one another or rewrite every index.
--
-- 1. A NOTIFY inside a transaction makes its commit take a cluster-wide lock, held through
-- the commit's WAL flush, so every credential write of every replica would commit one at
-- a time. The vault's own sessions (which set vault.announces_changes) therefore announce
-- a change themselves, just after it commits, in a transaction of its own that waits for
-- no flush (vault-store-postgres's cache.rs and announcer.rs). Every other writer (an operator's UPDATE)
-- is still announced from here, on commit.
CREATE OR REPLACE FUNCTION vault_credential_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('vault_credential_changed', '*');
    ELSIF current_setting('vault.announces_changes', true) IS DISTINCT FROM 'on' THEN
        PERFORM pg_notify('vault_credential_changed', OLD.id::text);
    END IF;
    RETURN NULL;
END
$$;

-- 2. Room in each page for a changed row's new version, so that an update (which changes
-- no indexed column) is HOT: no new entry in any of the table's five indexes.
ALTER TABLE credentials SET (fillfactor = 80);
