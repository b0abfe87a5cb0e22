-- Exposure reports and incidents (issue 5).
-- Events name the API token a token actor used, so a report can answer
-- "what did this token reach"; 0 for sessions, jobs and older events.
ALTER TABLE audit_events ADD COLUMN token_id INTEGER NOT NULL DEFAULT 0;
-- A report reads a time window in (at, id) order, narrowed by a user or
-- a token.
CREATE INDEX audit_events_at ON audit_events(at, id);
CREATE INDEX audit_events_actor_at ON audit_events(actor_id, at, id);
CREATE INDEX audit_events_token ON audit_events(token_id, at, id) WHERE token_id <> 0;
-- Incidents: what happened, how bad, where it stands, the exposure report
-- query they are linked to (JSON, '' none) and their timeline. Authors are
-- user ids, 0 for a system job, as in the audit trail.
CREATE TABLE incidents (
    id             INTEGER PRIMARY KEY,
    title          TEXT    NOT NULL,
    severity       TEXT    NOT NULL,
    status         TEXT    NOT NULL DEFAULT 'open',
    detected_at    INTEGER NOT NULL,
    description    TEXT    NOT NULL DEFAULT '',
    exposure_query TEXT    NOT NULL DEFAULT '',
    created_by     INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX incidents_detected ON incidents(detected_at, id);
CREATE TABLE incident_entries (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    at          INTEGER NOT NULL,
    note        TEXT    NOT NULL,
    author_id   INTEGER NOT NULL,
    author_name TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX incident_entries_incident ON incident_entries(incident_id, at, id);
