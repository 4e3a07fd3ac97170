-- 0008_log_queue.sql - the public log's queue.
--
-- The same version as migrations/postgresql/0008_log_queue.sql, which
-- explains the queue. SQLite does not use it: its writers are serialised by
-- the database, so each appends its entry inline, in its own transaction,
-- at no measurable cost, and this table stays empty. It exists so that both
-- backends have one schema, and a copy from PostgreSQL carries the entries
-- still queued there.

CREATE TABLE log_queue (
    id INTEGER PRIMARY KEY,
    kind INTEGER NOT NULL,
    case_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    actor INTEGER NOT NULL,
    actor_id INTEGER,
    actor_org_id INTEGER,
    reader_org_id INTEGER,
    role TEXT,
    action TEXT,
    from_stage TEXT,
    stage TEXT,
    rating INTEGER NOT NULL DEFAULT 0,
    event_id INTEGER,
    access_id INTEGER
);
