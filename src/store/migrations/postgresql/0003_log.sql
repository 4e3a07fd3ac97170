-- 0003_log.sql - the public log: anonymised entries in a Merkle tree, and its checkpoints.
--
-- The same version as migrations/sqlite/0003_log.sql, for PostgreSQL.
-- log_entries holds one row per entry, appended in the transaction of the
-- change it records. `hashes` is the leaf hash followed by the hash of every
-- complete subtree this entry completes (level 1, 2, ... for as many levels
-- as the index has trailing one bits), so that every node of the tree is one
-- primary-key read: node (level L, index K) is in row ((K + 1) << L) - 1 at
-- offset 32 * L. Nothing is ever recomputed over the leaves.
--
-- log_state is the single row that hands out indexes: a writer increments it
-- in its transaction and holds its row lock until commit, so indexes follow
-- commit order across every instance, and a rolled-back transaction gives its
-- index back; there are no gaps.
--
-- log_checkpoints keeps every signed tree head (a C2SP signed note).

CREATE TABLE log_entries (
    idx bigint PRIMARY KEY CHECK (idx >= 0),
    entry bytea NOT NULL,
    hashes bytea NOT NULL CHECK (length(hashes) % 32 = 0 AND length(hashes) >= 32)
);

CREATE TABLE log_state (
    id integer PRIMARY KEY CHECK (id = 1),
    size bigint NOT NULL CHECK (size >= 0)
);
INSERT INTO log_state (id, size) VALUES (1, 0);

CREATE TABLE log_checkpoints (
    size bigint PRIMARY KEY CHECK (size >= 0),
    note text NOT NULL,
    signed_at bigint NOT NULL
);

-- Where each event and access went in the log, so a citizen can find and
-- verify their own entries. NULL for rows older than the log.
ALTER TABLE events ADD COLUMN log_index bigint;
ALTER TABLE accesses ADD COLUMN log_index bigint;
