-- 0010_appeal_officer.sql - the officer of an appeal, and messages to staff.
--
-- An answer to an appeal is told to the staff of the organisation in the
-- answer's own transaction, through the outbox of 0006: an email to the
-- appeal's officer (or, when it has none, to every administrator) and an
-- event to each webhook subscription. The outbox's CHECKs already allow both
-- (its kinds are free text, its channels include email and webhook).
--
-- What the outbox could not tell apart is a message to the organisation's
-- own staff from one to the case's person: both are emails naming the case.
-- to_staff marks the former. A message to staff carries none of the
-- person's data, so showing it records no access to it, and delivering it
-- tells the person nothing, so it meets none of the case's update duties.

-- NULL: the appeal has no officer, and its answers are told to the
-- organisation's administrators.
ALTER TABLE appeals ADD COLUMN officer_id INTEGER REFERENCES users (id);

ALTER TABLE notifications ADD COLUMN to_staff INTEGER NOT NULL DEFAULT 0
    CHECK (to_staff IN (0, 1));
