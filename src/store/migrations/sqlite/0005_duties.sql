-- 0005_duties.sql - statutory update duties, bank-holiday calendars, teams.
--
-- A service declares its duties as JSON beside its workflow, validated by the
-- domain before it is stored. A case may be flagged enhanced (shorter duties)
-- and may name the team that works it. An organisation picks one of the
-- calendars that ship with the binary, or uploads its own text.
--
-- An instance of a duty is written in the transaction of the event that
-- triggers it; its due time is worked out by the domain (working days of the
-- organisation's calendar, end of the day in UK time) and stored, so that a
-- later change of calendar or of the service leaves it as it was promised.
-- It is met (met_at) by the first public update, or delivered notification,
-- that follows it; due, missed, met or met late is read from due_at, met_at
-- and the time of asking.

ALTER TABLE services ADD COLUMN duties_json TEXT NOT NULL DEFAULT '[]';

ALTER TABLE cases ADD COLUMN enhanced INTEGER NOT NULL DEFAULT 0 CHECK (enhanced IN (0, 1));
ALTER TABLE cases ADD COLUMN team TEXT;

CREATE TABLE org_calendars (
    org_id INTEGER PRIMARY KEY REFERENCES orgs (id),
    -- A calendar that ships with the binary, or 'custom' with its text.
    calendar TEXT NOT NULL,
    holidays TEXT,
    updated_at INTEGER NOT NULL,
    CHECK ((calendar = 'custom') = (holidays IS NOT NULL))
) STRICT;

CREATE TABLE duty_instances (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    service_id INTEGER NOT NULL REFERENCES services (id),
    duty TEXT NOT NULL,                            -- the duty's code in its service
    event_id INTEGER NOT NULL REFERENCES events (id), -- the move that triggered it
    triggered_at INTEGER NOT NULL,
    days INTEGER NOT NULL CHECK (days > 0),        -- the working days it allows
    due_at INTEGER NOT NULL,
    met_at INTEGER,                                -- NULL until met
    met_by TEXT CHECK (met_by IN ('update', 'delivery')),
    met_event_id INTEGER REFERENCES events (id),   -- the update, or the notified event
    UNIQUE (event_id, duty),
    CHECK ((met_at IS NULL) = (met_by IS NULL))
) STRICT;

-- A case's duties, and the open ones a public update meets.
CREATE INDEX duty_instances_case ON duty_instances (case_id, id);
-- The worklist: an organisation's unmet duties by due time.
CREATE INDEX duty_instances_open ON duty_instances (org_id, due_at, id) WHERE met_at IS NULL;
-- Compliance: the duties of an organisation that fell due in a window.
CREATE INDEX duty_instances_due ON duty_instances (org_id, due_at, service_id);
