-- Version history (issue 5): the user-editable fields of a record as each
-- version left them, so a user can compare versions and restore a field or
-- a whole version (through the normal, audited edit).
CREATE TABLE record_versions (
    object     TEXT NOT NULL,
    record_id  BIGINT NOT NULL,
    version    BIGINT NOT NULL,
    fields     TEXT NOT NULL,
    actor_id   BIGINT NOT NULL DEFAULT 0,
    actor_name TEXT NOT NULL DEFAULT '',
    at         BIGINT NOT NULL,
    PRIMARY KEY (object, record_id, version)
);
