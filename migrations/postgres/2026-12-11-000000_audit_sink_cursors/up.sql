-- Where each audit sink is in each chain: the number of the last event it delivered. A
-- chain's numbers are gapless and follow commit order, so that number is an exact cursor:
-- a sink restarted (or taken over by another replica) resumes right after it and skips
-- no event. Same table, same meaning, as migrations/sqlite.
--
-- sink is the sink's configured name (1 to 100 characters). chain_key is the chain's key,
-- as in audit_chain_heads: the organization's id, or the nil UUID for the installation's
-- chain (so no foreign key; and a cursor outlives the events it points past, which
-- retention may cut). A cursor only moves forward: the store's upsert updates seq only
-- when the new one is higher. The key leads with sink, so one sink's cursors (all that is
-- ever read at once) are one range of its index.
CREATE TABLE audit_sink_cursors (
    sink text NOT NULL CHECK (char_length(sink) BETWEEN 1 AND 100),
    chain_key uuid NOT NULL,
    seq bigint NOT NULL CHECK (seq >= 1),
    PRIMARY KEY (sink, chain_key)
);
