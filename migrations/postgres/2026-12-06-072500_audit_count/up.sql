-- Repeated failed authentications of one key (or subject) with one reason are written
-- once at the first failure, then as one event per window counting the others
-- (PostgreSQL; vault-core's vault/flood.rs). occurrences is how many failures an event
-- stands for: 1 for every other event, and for every row written before this migration.
--
-- A constant default: a catalog change only, no table rewrite (PostgreSQL 11 and later).
ALTER TABLE audit_events ADD COLUMN occurrences bigint NOT NULL DEFAULT 1;
