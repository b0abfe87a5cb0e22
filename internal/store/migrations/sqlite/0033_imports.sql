-- Imports (issue 14 §1). An import is previewed, then committed by a job
-- that leases it, commits the file's rows in batches and records how far
-- it got in the batch's own transaction, so a restart continues where it
-- stopped and never writes a row twice.
CREATE TABLE imports (
    id          INTEGER PRIMARY KEY,
    object      TEXT    NOT NULL,
    -- The namespace of the file's external ids: a re-import from the same
    -- source updates what the earlier rounds created.
    source      TEXT    NOT NULL,
    file_name   TEXT    NOT NULL,
    file_hash   TEXT    NOT NULL,
    file_size   INTEGER NOT NULL,
    -- The file and the rows kept from it hold personal data: they are
    -- sealed under this key, erased when the import is forgotten.
    data_key    TEXT    NOT NULL,
    options     TEXT    NOT NULL DEFAULT '{}',
    status      TEXT    NOT NULL,
    total       INTEGER NOT NULL DEFAULT 0,
    done_rows   INTEGER NOT NULL DEFAULT 0,
    created     INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    skipped     INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    duplicates  INTEGER NOT NULL DEFAULT 0,
    created_by  INTEGER NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER,
    error       TEXT    NOT NULL DEFAULT ''
);
-- A job holds an import while it runs through job_leases ("import:<id>").
CREATE INDEX imports_status ON imports(status);
CREATE INDEX imports_creator ON imports(created_by, id);

-- The uploaded file, sealed, in pieces: any instance can resume the job.
CREATE TABLE import_chunks (
    import_id INTEGER NOT NULL REFERENCES imports(id),
    seq       INTEGER NOT NULL,
    data      TEXT    NOT NULL,
    PRIMARY KEY (import_id, seq)
);

-- One row per data row of the file: its planned action (preview) and
-- what the commit did. raw (sealed) is kept for rows that were not
-- imported, for the error report.
CREATE TABLE import_rows (
    import_id    INTEGER NOT NULL REFERENCES imports(id),
    line         INTEGER NOT NULL,
    planned      TEXT    NOT NULL,
    action       TEXT    NOT NULL DEFAULT '',
    external_id  TEXT    NOT NULL DEFAULT '',
    record_id    INTEGER NOT NULL DEFAULT 0,
    duplicate_of TEXT    NOT NULL DEFAULT '',
    reason       TEXT    NOT NULL DEFAULT '',
    raw          TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (import_id, line)
);

-- Which record an external id of a source became, and the import that
-- made it: re-imports update it, follow-ups and opportunities link to it.
CREATE TABLE external_ids (
    object      TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    external_id TEXT    NOT NULL,
    record_id   INTEGER NOT NULL,
    import_id   INTEGER NOT NULL REFERENCES imports(id),
    PRIMARY KEY (object, source, external_id)
);
CREATE INDEX external_ids_record ON external_ids(object, record_id);
CREATE INDEX external_ids_import ON external_ids(import_id);

-- Named column mappings, reused for the next file of the same shape.
CREATE TABLE import_mappings (
    id         INTEGER PRIMARY KEY,
    object     TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    mapping    TEXT    NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    UNIQUE (object, name)
);
