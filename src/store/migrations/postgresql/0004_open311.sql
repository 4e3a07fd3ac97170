-- 0004_open311.sql - Open311 GeoReport v2: what a service offers to reporting
-- sites, and what a report sent by one carries besides the case.
--
-- A service is offered through Open311 when it has metadata (attributes,
-- groups, keywords, the Open311 status of each stage), validated by
-- domain/open311.c before it is stored. A request posted through Open311 is
-- an ordinary case; its location, media link, attributes and token are kept
-- in open311_requests beside it. Latitude and longitude are kept as the
-- validated decimal text the client sent, so that they read back unchanged.

ALTER TABLE services ADD COLUMN open311_json text;

CREATE TABLE open311_requests (
    case_id bigint PRIMARY KEY REFERENCES cases (id) ON DELETE CASCADE,
    token text NOT NULL UNIQUE,
    description text,
    lat text,
    long text,
    address_string text,
    address_id text,
    media_url text,
    attributes_json text NOT NULL,
    device_id text,
    account_id text
);

-- The updates a reporting site polls for, by time: public stage changes and
-- public notes.
CREATE INDEX events_open311_updates ON events (created_at, id)
    WHERE public AND type IN ('stage_change', 'public_note');
