-- Backups and restore drills (issue 15): one row per run, made by custos
-- backup, custos backup verify or serve's schedule, shown with the backup
-- history on the administration page. A drill names the backup it
-- restored and when that backup was taken.
CREATE TABLE backup_runs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    outcome     TEXT    NOT NULL,
    path        TEXT    NOT NULL DEFAULT '',
    copies      TEXT    NOT NULL DEFAULT '',
    rows_count  INTEGER NOT NULL DEFAULT 0,
    bytes       INTEGER NOT NULL DEFAULT 0,
    backup_at   INTEGER NOT NULL DEFAULT 0,
    detail      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX backup_runs_kind ON backup_runs(kind, started_at);
