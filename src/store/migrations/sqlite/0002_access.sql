-- 0002_access.sql - access records: who was shown a person's data, when and why.
--
-- A row is written, durably, before a response that carries a person's data
-- leaves the server; the citizen sees the rows of their case. The reader's
-- organisation is kept apart from the case's, so that a read of another
-- organisation's case (a shared case, with its purpose stated) is recorded
-- like any other. The reader's name is copied at the time of the read, so
-- that renaming an account or a key does not rewrite what a citizen was told.

CREATE TABLE accesses (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    case_org_id INTEGER NOT NULL REFERENCES orgs (id),
    reader_org_id INTEGER NOT NULL REFERENCES orgs (id),
    -- A staff user or a system's API key, never both.
    user_id INTEGER REFERENCES users (id),
    key_id INTEGER REFERENCES api_keys (id),
    reader_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('administrator', 'caseworker', 'analyst')),
    -- What showed the data: a read of the case, a list, or a write's response.
    action TEXT NOT NULL CHECK (action IN ('read', 'list', 'write')),
    purpose TEXT NOT NULL CHECK (length(purpose) BETWEEN 1 AND 200),
    at INTEGER NOT NULL,
    CHECK ((user_id IS NULL) <> (key_id IS NULL))
) STRICT;

-- The accesses of one case, newest first: the public tracking look-up.
CREATE INDEX accesses_case ON accesses (case_id, at, id);
