-- Identity-provider tokens: the same columns, with the same meaning, as migrations/sqlite.
-- Who acted, when a token of the configured identity provider authenticated rather than
-- an access key: the token's subject claim, as the vault validated it (1 to 255
-- characters, no control characters); NULL when an access key acted (see actor /
-- access_key_id), for the vault itself, and for every row written before this migration.
-- Plain text, not a foreign key: subjects live in the identity provider, not here. Never a
-- token or any other claim.
--
-- A nullable column without a default is a catalog change only (no table rewrite); the
-- CHECK constraints scan the existing rows once, under the same short lock.
ALTER TABLE audit_events ADD COLUMN actor_subject text
    CONSTRAINT audit_events_actor_subject_check
    CHECK (char_length(actor_subject) BETWEEN 1 AND 255);
ALTER TABLE request_logs ADD COLUMN actor_subject text
    CONSTRAINT request_logs_actor_subject_check
    CHECK (char_length(actor_subject) BETWEEN 1 AND 255);
