-- 0009_log_duties.sql - duties that fall due unmet, for the public log.
--
-- A duty is met by a write (a public update, a delivery), which appends its
-- duty_met entry in the same transaction. A duty missed has no write of its
-- own: time passes. A sweeper (store_duty_sweep) finds duties due and unmet,
-- sets missed_at and appends a duty_missed entry, in one transaction, so
-- each missed duty is logged once. missed_at is when the sweep noticed; the
-- entry's time is the due time. A duty met late after that keeps missed_at
-- and logs duty_met too: both happened.

ALTER TABLE duty_instances ADD COLUMN missed_at INTEGER;

-- The sweep's look-up: duties unmet and not yet logged as missed, by due time.
CREATE INDEX duty_instances_unswept ON duty_instances (due_at, id)
    WHERE met_at IS NULL AND missed_at IS NULL;

-- The code of the duty an entry of the queue is about (PostgreSQL's queue;
-- kept here so that both backends have one schema).
ALTER TABLE log_queue ADD COLUMN duty TEXT;
