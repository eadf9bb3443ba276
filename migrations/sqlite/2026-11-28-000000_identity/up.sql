-- Identity-provider tokens (SQLite): who acted, when a token of the configured identity
-- provider authenticated rather than an access key. The token's subject claim, as the
-- vault validated it (1 to 255 characters, no control characters); NULL when an access
-- key acted (see actor / access_key_id), for the vault itself, and for every row written
-- before this migration. Plain text, not a foreign key: subjects live in the identity
-- provider, not here. Never a token or any other claim.
--
-- A nullable column without a default: SQLite only changes the table's definition, no row
-- is rewritten. The CHECK is tested against existing rows, all NULL.
ALTER TABLE audit_events ADD COLUMN actor_subject TEXT
    CHECK (actor_subject IS NULL OR length(actor_subject) BETWEEN 1 AND 255);
ALTER TABLE request_logs ADD COLUMN actor_subject TEXT
    CHECK (actor_subject IS NULL OR length(actor_subject) BETWEEN 1 AND 255);
