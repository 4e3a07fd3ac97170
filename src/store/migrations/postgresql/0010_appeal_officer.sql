-- 0010_appeal_officer.sql - the officer of an appeal, and messages to staff.
--
-- The same version as migrations/sqlite/0010_appeal_officer.sql, which
-- explains it: the officer an answer is told to (NULL: the organisation's
-- administrators), and to_staff, which marks a message to the
-- organisation's own staff apart from one to the case's person, so that it
-- records no access to the person's data and meets no update duty. The
-- outbox's CHECKs already allow what is told (free-text kinds; the email and
-- webhook channels).

ALTER TABLE appeals ADD COLUMN officer_id bigint REFERENCES users (id);

ALTER TABLE notifications ADD COLUMN to_staff boolean NOT NULL DEFAULT false;
