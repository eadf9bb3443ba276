-- Every replica keeps the credentials it uses in memory (vault-store-postgres's cache.rs).
-- Any change of a credential row, whoever makes it (a replica, `keys rewrap`, an operator's
-- UPDATE), notifies them all, on commit, to forget it. A truncation forgets everything.
CREATE FUNCTION vault_credential_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('vault_credential_changed', '*');
    ELSE
        PERFORM pg_notify('vault_credential_changed', OLD.id::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER vault_credential_changed AFTER UPDATE OR DELETE ON credentials
    FOR EACH ROW EXECUTE FUNCTION vault_credential_changed();

CREATE TRIGGER vault_credential_truncated AFTER TRUNCATE ON credentials
    FOR EACH STATEMENT EXECUTE FUNCTION vault_credential_changed();
