-- Dropping the column drops its constraint; the index goes first.
DROP INDEX access_keys_unbound;
ALTER TABLE access_keys DROP COLUMN binding;
