-- 0012_case_states.sql - a case's stage and last change live in a narrow
-- table of their own.
--
-- A stage change is the commonest write. When the stage was a column of
-- cases, each change rewrote the whole case row (summary and all) and, as the
-- stage is indexed for the staff list by stage, PostgreSQL could not update
-- it in place: every index of cases (its id, its reference, its lists by
-- opened_at, service and stage, its person) took a new entry, most on pages
-- no other write had touched since the last checkpoint, so each was written
-- to the WAL whole. Now a change rewrites one short case_states row and two
-- index entries, and cases changes only when a case is closed, flagged or its
-- secret reset.
--
-- org_id and opened_at are copies of the case's, which never change, so that
-- the list by stage is read from one index; the foreign key to the three
-- columns keeps them equal. Events refer to case_states rather than cases:
-- an event is always written beside its case's new state, so the key check
-- finds a row the same statement has already locked.
--
-- SQLite keeps the stage in cases: see migrations/sqlite/0012_case_states.sql.

CREATE UNIQUE INDEX cases_state_key ON cases (id, org_id, opened_at);

CREATE TABLE case_states (
    case_id bigint PRIMARY KEY,
    org_id bigint NOT NULL,
    opened_at bigint NOT NULL,
    stage text NOT NULL,
    updated_at bigint NOT NULL,
    FOREIGN KEY (case_id, org_id, opened_at) REFERENCES cases (id, org_id, opened_at)
        ON DELETE CASCADE
);

INSERT INTO case_states (case_id, org_id, opened_at, stage, updated_at)
    SELECT id, org_id, opened_at, stage, updated_at FROM cases;

-- The case list by stage, most recently opened first.
CREATE INDEX case_states_org_stage ON case_states (org_id, stage, opened_at, case_id);

DROP INDEX cases_org_stage;
ALTER TABLE cases DROP COLUMN stage, DROP COLUMN updated_at;

ALTER TABLE events DROP CONSTRAINT events_case_id_fkey;
ALTER TABLE events ADD FOREIGN KEY (case_id) REFERENCES case_states (case_id) ON DELETE CASCADE;
