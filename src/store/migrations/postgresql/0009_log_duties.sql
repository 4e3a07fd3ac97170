-- 0009_log_duties.sql - duties that fall due unmet, for the public log.
--
-- The same version as migrations/sqlite/0009_log_duties.sql, which explains
-- missed_at and the sweep. Here the sweep takes due rows with SKIP LOCKED,
-- so that the sweepers of several instances share the work and never log a
-- duty twice, and queues their entries for the sequencer.

ALTER TABLE duty_instances ADD COLUMN missed_at bigint;

CREATE INDEX duty_instances_unswept ON duty_instances (due_at, id)
    WHERE met_at IS NULL AND missed_at IS NULL;

-- duty_met, duty_missed: the duty's code.
ALTER TABLE log_queue ADD COLUMN duty text;
