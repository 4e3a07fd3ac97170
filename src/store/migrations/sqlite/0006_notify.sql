-- 0006_notify.sql - notifications: preferences, templates, webhooks and the outbox.
--
-- A notification is written in the same transaction as the event that causes
-- it, so that an acknowledged update is never left untold. The delivery
-- worker leases due rows (lease_until), sends them, and records every attempt;
-- a lease that outlives a crashed worker expires and the row is sent again,
-- so delivery is at least once and each message carries its row's id.
-- Post and phone are not sent by machine: they are tasks for staff, open
-- until someone marks them done.

-- How a person wants to be told. No row: the defaults of domain/notice.h.
CREATE TABLE notify_prefs (
    person_id INTEGER PRIMARY KEY REFERENCES persons (id) ON DELETE CASCADE,
    -- Comma-separated, from email, sms, post, phone; empty for none.
    channels TEXT NOT NULL,
    language TEXT NOT NULL CHECK (language IN ('en', 'cy')),
    frequency TEXT NOT NULL CHECK (frequency IN ('every', 'milestones', 'none')),
    updated_at INTEGER NOT NULL
) STRICT;

-- A service's own wording; a kind and language without a row uses the
-- built-in default.
CREATE TABLE notify_templates (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('stage_reached', 'public_note', 'duty_reminder')),
    language TEXT NOT NULL CHECK (language IN ('en', 'cy')),
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (service_id, kind, language)
) STRICT;

-- Systems that receive an organisation's events, signed with their secret.
-- A removed subscription is kept (active = 0) for the rows that name it.
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX webhooks_org ON webhooks (org_id, active);

-- The outbox.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    case_id INTEGER REFERENCES cases (id) ON DELETE CASCADE,
    webhook_id INTEGER REFERENCES webhooks (id),
    -- The event that caused it, if any: delivering a message about it to the
    -- person meets the duties that event, or an earlier one, triggered.
    event_id INTEGER,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'post', 'phone', 'webhook')),
    -- An email address, a phone number, a postal address or the webhook's URL.
    recipient TEXT NOT NULL,
    subject TEXT,
    body TEXT NOT NULL,
    -- pending -> delivered | failed; a task: open -> done.
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'open', 'done')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    lease_until INTEGER,
    created_at INTEGER NOT NULL,
    -- When it was delivered, or the task done: what update duties are met by.
    delivered_at INTEGER,
    last_error TEXT
) STRICT;

-- The worker's look-up of due rows, a channel at a time, so that a backlog
-- on a channel nobody delivers costs the others nothing.
CREATE INDEX notifications_due ON notifications (channel, next_at) WHERE status = 'pending';
-- Administrators' lists by state, newest first.
CREATE INDEX notifications_org ON notifications (org_id, status, id);
-- Whether (and when) a case's person was told.
CREATE INDEX notifications_case ON notifications (case_id, delivered_at);

-- Every delivery attempt and its outcome.
CREATE TABLE notify_attempts (
    id INTEGER PRIMARY KEY,
    notification_id INTEGER NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed')),
    reason TEXT
) STRICT;

CREATE INDEX notify_attempts_notification ON notify_attempts (notification_id, id);
