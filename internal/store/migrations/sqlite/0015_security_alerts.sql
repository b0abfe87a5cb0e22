-- Anomaly alerts (issue 5): one row per rule, user and clock hour, so
-- several instances evaluating the rules raise each alert once.
CREATE TABLE security_alerts (
    id           INTEGER PRIMARY KEY,
    rule         TEXT NOT NULL,
    user_id      INTEGER NOT NULL DEFAULT 0,
    user_name    TEXT NOT NULL DEFAULT '',
    window_start INTEGER NOT NULL,
    detail       TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    status       TEXT NOT NULL DEFAULT 'open',
    suspended    INTEGER NOT NULL DEFAULT 0,
    reviewed_by  INTEGER NOT NULL DEFAULT 0,
    reviewed_at  INTEGER,
    UNIQUE (rule, user_id, user_name, window_start)
);
CREATE INDEX security_alerts_status ON security_alerts(status, id);
