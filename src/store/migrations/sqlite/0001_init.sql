-- 0001_init.sql - the first schema: organisations, services, staff, cases and their events.
--
-- The version table (schema_migrations) is kept by store_sqlite.c, which runs
-- each migration in its own transaction. Times are seconds since the Unix
-- epoch, UTC. Personal data lives in persons, apart from cases, so that it can
-- be erased or withheld without touching a case's history.

-- Deployment-wide values, such as the secret key for keyed hashes.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

CREATE TABLE orgs (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (unixepoch())
) STRICT;

CREATE TABLE services (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    workflow_json TEXT NOT NULL,
    target_days INTEGER NOT NULL CHECK (target_days > 0),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (org_id, code),
    -- The parent key of cases (service_id, org_id): a case's service belongs
    -- to the case's organisation.
    UNIQUE (id, org_id)
) STRICT;

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('administrator', 'caseworker', 'analyst')),
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (unixepoch())
) STRICT;

-- Tokens are stored only as keyed hashes.
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    label TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('administrator', 'caseworker', 'analyst')),
    key_hash BLOB NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    created_at INTEGER NOT NULL DEFAULT (unixepoch())
) STRICT;

CREATE TABLE persons (
    id INTEGER PRIMARY KEY,
    name TEXT,
    email TEXT,
    phone TEXT,
    address TEXT,
    postcode TEXT
) STRICT;

CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    service_id INTEGER NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    stage TEXT NOT NULL,
    summary TEXT NOT NULL,
    secret_hash BLOB NOT NULL CHECK (length(secret_hash) = 32),
    person_id INTEGER REFERENCES persons (id),
    opened_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    closed_at INTEGER, -- NULL while open
    idempotency_key TEXT,
    FOREIGN KEY (service_id, org_id) REFERENCES services (id, org_id)
) STRICT;

CREATE UNIQUE INDEX cases_idempotency ON cases (org_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- The case list, most recently opened first, unfiltered or by service or by stage.
CREATE INDEX cases_org ON cases (org_id, opened_at, id);
CREATE INDEX cases_org_service ON cases (org_id, service_id, opened_at, id);
CREATE INDEX cases_org_stage ON cases (org_id, stage, opened_at, id);
-- Durations of the most recently closed cases of a service, for estimates.
CREATE INDEX cases_service_closed ON cases (service_id, closed_at, opened_at)
    WHERE closed_at IS NOT NULL;

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    type TEXT NOT NULL CHECK (type IN ('opened', 'stage_change', 'public_note',
                                       'internal_note', 'message', 'feedback')),
    from_stage TEXT,
    stage TEXT NOT NULL, -- the case's stage after the event
    body TEXT,
    rating INTEGER NOT NULL DEFAULT 0
        CHECK (rating BETWEEN 0 AND 5 AND (type <> 'feedback' OR rating >= 1)),
    public INTEGER NOT NULL CHECK (public IN (0, 1)),
    actor TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX events_case ON events (case_id, id);
-- A citizen gives feedback once per case, even when two requests race.
CREATE UNIQUE INDEX events_one_feedback ON events (case_id) WHERE type = 'feedback';
