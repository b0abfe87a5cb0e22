-- Issue 4, privacy rights: the privacy officer's flag on roles (administrators
-- have it as well), the register of requests, consents per purpose and
-- channel, and legal holds. Everything is kept per person: by the data key a
-- lead and the contact it became share.
ALTER TABLE roles ADD COLUMN privacy INTEGER NOT NULL DEFAULT 0;
UPDATE roles SET privacy = 1 WHERE admin = 1;
-- A database created before this gets the default privacy officer role; a
-- new one gets it with the other default roles on first start.
INSERT INTO roles (role_key, name, admin, audit, privacy, grants, require_mfa, created_at, updated_at)
SELECT 'privacy', 'Privacy officer', 0, 0, 1, '{}', 0, CAST(strftime('%s', 'now') AS INTEGER) * 1000, CAST(strftime('%s', 'now') AS INTEGER) * 1000
WHERE EXISTS (SELECT 1 FROM roles) AND NOT EXISTS (SELECT 1 FROM roles WHERE role_key = 'privacy');

CREATE TABLE privacy_requests (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    object       TEXT    NOT NULL,
    record_id    INTEGER NOT NULL,
    person_key   TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    due_at       INTEGER NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'open',
    reason       TEXT    NOT NULL DEFAULT '',
    notes        TEXT    NOT NULL DEFAULT '',
    purpose      TEXT    NOT NULL DEFAULT '',
    channel      TEXT    NOT NULL DEFAULT '',
    completed_at INTEGER,
    handled_by   INTEGER NOT NULL DEFAULT 0,
    created_by   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX privacy_requests_status ON privacy_requests(status, due_at, id);
CREATE INDEX privacy_requests_person ON privacy_requests(person_key);

-- A grant after a withdrawal is a new row: the old one stays as evidence.
-- At most one live consent per person, purpose and channel.
CREATE TABLE consents (
    id           INTEGER PRIMARY KEY,
    person_key   TEXT    NOT NULL,
    object       TEXT    NOT NULL,
    record_id    INTEGER NOT NULL,
    purpose      TEXT    NOT NULL,
    channel      TEXT    NOT NULL,
    source       TEXT    NOT NULL DEFAULT '',
    granted_at   INTEGER NOT NULL,
    granted_by   INTEGER NOT NULL DEFAULT 0,
    withdrawn_at INTEGER,
    withdrawn_by INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX consents_person ON consents(person_key, id);
CREATE UNIQUE INDEX consents_live ON consents(purpose, channel, person_key) WHERE withdrawn_at IS NULL;

CREATE TABLE legal_holds (
    person_key TEXT    PRIMARY KEY,
    reason     TEXT    NOT NULL,
    set_by     INTEGER NOT NULL,
    set_at     INTEGER NOT NULL
);
