ALTER TABLE credentials RESET (fillfactor);

CREATE OR REPLACE FUNCTION vault_credential_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('vault_credential_changed', '*');
    ELSE
        PERFORM pg_notify('vault_credential_changed', OLD.id::text);
    END IF;
    RETURN NULL;
END
$$;
