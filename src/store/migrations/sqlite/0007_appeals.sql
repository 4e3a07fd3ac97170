-- 0007_appeals.sql - appeals for witnesses, the map's spatial index, and answers.
--
-- An appeal belongs to one case of its organisation. It keeps two locations:
-- the true one (true_lat, true_lon), which only the organisation's staff may
-- read, and the public one (pub_lat, pub_lon) derived from it by the domain
-- with a stated precision. Coordinates are integers in 1e-7 degree, so that
-- they are exact on every database and in every copy.
--
-- The map's index is SQLite's R*Tree module (rtree_i32: 32-bit integer
-- edges, exact for these coordinates). It holds the public location of
-- published appeals only, kept by the triggers below whatever writes the
-- table (the store, a copy, a bulk load), so a map query never meets a draft
-- or a closed appeal and never touches the true location. PostgreSQL's
-- migration uses a GiST index on the same columns instead.

-- Appeal events join the case's other events. SQLite cannot alter a CHECK,
-- and rebuilding events is refused while other tables (duty_instances) refer
-- to its rows; so the CHECK's list of types is widened in the schema's text,
-- the procedure SQLite documents for loosening a constraint (every row that
-- met the old CHECK meets the new one). RESET makes this connection read the
-- schema again; the tables created below move the schema's version on, so
-- every other connection reads it again too.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
    SET sql = replace(sql, '''message'', ''feedback'')',
                      '''message'', ''feedback'', ''appeal_published'', ''appeal_closed'','
                      || ' ''appeal_answer'')')
    WHERE type = 'table' AND name = 'events';
PRAGMA writable_schema = RESET;

CREATE TABLE appeals (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    case_id INTEGER NOT NULL REFERENCES cases (id),
    status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'closed')),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL,
    occurred_from INTEGER NOT NULL,
    occurred_to INTEGER, -- NULL: a moment rather than a range
    contact TEXT NOT NULL,
    anonymous_contact TEXT,
    expires_at INTEGER NOT NULL,
    true_lat INTEGER NOT NULL CHECK (true_lat BETWEEN -900000000 AND 900000000),
    true_lon INTEGER NOT NULL CHECK (true_lon BETWEEN -1800000000 AND 1800000000),
    pub_lat INTEGER NOT NULL CHECK (pub_lat BETWEEN -900000000 AND 900000000),
    pub_lon INTEGER NOT NULL CHECK (pub_lon BETWEEN -1800000000 AND 1800000000),
    precision TEXT NOT NULL CHECK (precision IN ('exact', 'grid')),
    cell_m INTEGER NOT NULL DEFAULT 0,
    outcome TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    published_at INTEGER,
    closed_at INTEGER,
    CHECK (status = 'draft' OR published_at IS NOT NULL),
    CHECK (status <> 'closed' OR (closed_at IS NOT NULL AND outcome IS NOT NULL))
) STRICT;

-- The staff list of an organisation's appeals, newest first.
CREATE INDEX appeals_org ON appeals (org_id, created_at, id);
-- The public list without an area, newest first.
CREATE INDEX appeals_published ON appeals (published_at, id) WHERE status = 'published';
CREATE INDEX appeals_case ON appeals (case_id);

CREATE VIRTUAL TABLE appeals_map USING rtree_i32 (id, min_lon, max_lon, min_lat, max_lat);

CREATE TRIGGER appeals_map_insert AFTER INSERT ON appeals WHEN new.status = 'published'
BEGIN
    INSERT INTO appeals_map VALUES (new.id, new.pub_lon, new.pub_lon, new.pub_lat, new.pub_lat);
END;
CREATE TRIGGER appeals_map_publish AFTER UPDATE OF status ON appeals
    WHEN new.status = 'published' AND old.status <> 'published'
BEGIN
    INSERT INTO appeals_map VALUES (new.id, new.pub_lon, new.pub_lon, new.pub_lat, new.pub_lat);
END;
CREATE TRIGGER appeals_map_unpublish AFTER UPDATE OF status ON appeals
    WHEN old.status = 'published' AND new.status <> 'published'
BEGIN
    DELETE FROM appeals_map WHERE id = old.id;
END;
CREATE TRIGGER appeals_map_delete AFTER DELETE ON appeals WHEN old.status = 'published'
BEGIN
    DELETE FROM appeals_map WHERE id = old.id;
END;

-- An answer from the public. A named answerer's contact details are a
-- person, kept with the other personal data; an anonymous answer has none,
-- and no secret to look its receipt up with.
CREATE TABLE appeal_answers (
    id INTEGER PRIMARY KEY,
    appeal_id INTEGER NOT NULL REFERENCES appeals (id),
    receipt TEXT NOT NULL UNIQUE,
    secret_hash BLOB CHECK (secret_hash IS NULL OR length(secret_hash) = 32),
    saw TEXT NOT NULL,
    seen_when TEXT,
    seen_lat INTEGER CHECK (seen_lat BETWEEN -900000000 AND 900000000),
    seen_lon INTEGER CHECK (seen_lon BETWEEN -1800000000 AND 1800000000),
    person_id INTEGER REFERENCES persons (id),
    channel TEXT CHECK (channel IN ('email', 'phone')),
    anonymous INTEGER NOT NULL CHECK (anonymous IN (0, 1)),
    created_at INTEGER NOT NULL,
    first_read_at INTEGER, -- when staff of the organisation first read it
    CHECK ((seen_lat IS NULL) = (seen_lon IS NULL)),
    CHECK ((anonymous = 1 AND person_id IS NULL AND channel IS NULL AND secret_hash IS NULL)
        OR (anonymous = 0 AND person_id IS NOT NULL AND channel IS NOT NULL
            AND secret_hash IS NOT NULL))
) STRICT;

CREATE INDEX appeal_answers_appeal ON appeal_answers (appeal_id, id);

-- Every showing of a named answerer's details to staff or a system: what the
-- answerer sees on their receipt, as a citizen sees accesses to their case.
CREATE TABLE appeal_answer_reads (
    id INTEGER PRIMARY KEY,
    answer_id INTEGER NOT NULL REFERENCES appeal_answers (id),
    reader_org_id INTEGER NOT NULL REFERENCES orgs (id),
    user_id INTEGER REFERENCES users (id),
    key_id INTEGER REFERENCES api_keys (id),
    reader_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('administrator', 'caseworker', 'analyst')),
    purpose TEXT NOT NULL CHECK (length(purpose) BETWEEN 1 AND 200),
    at INTEGER NOT NULL,
    CHECK ((user_id IS NULL) <> (key_id IS NULL))
) STRICT;

CREATE INDEX appeal_answer_reads_answer ON appeal_answer_reads (answer_id, at, id);
