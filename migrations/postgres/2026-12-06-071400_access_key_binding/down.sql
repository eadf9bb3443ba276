-- Dropping the column drops its constraint and the partial index.
DROP INDEX access_keys_unbound;
ALTER TABLE access_keys DROP COLUMN binding;
