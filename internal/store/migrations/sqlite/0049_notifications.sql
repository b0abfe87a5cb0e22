-- Issue 17 §4, the notification centre. A notification keeps an i18n key's
-- parameters (never rendered text, never customer data) and a record
-- reference whose name is looked up, through the reader's scope, when it is
-- read. The header's unread badge counts (user_id, read_at IS NULL): one
-- index range. A notification the user wants by e-mail or bot only is
-- stored already read, so it is neither listed nor counted.
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    kind       TEXT   NOT NULL,
    object     TEXT   NOT NULL DEFAULT '',
    record_id  INTEGER NOT NULL DEFAULT 0,
    params     TEXT   NOT NULL DEFAULT '[]',
    in_app     INTEGER NOT NULL,
    -- once_key makes a notification happen at most once per user (the
    -- morning digest: "digest:2026-12-08"); NULL for the others.
    once_key   TEXT,
    created_at INTEGER NOT NULL,
    read_at    INTEGER
);
CREATE INDEX notifications_user_read ON notifications(user_id, read_at);
CREATE INDEX notifications_user_id ON notifications(user_id, id);
CREATE UNIQUE INDEX notifications_once ON notifications(user_id, once_key);

-- The outbox of notifications to e-mail and group bots: the shape of
-- alert_deliveries, so one claim/retry/backoff code serves both.
CREATE TABLE notification_deliveries (
    id              INTEGER PRIMARY KEY,
    notification_id INTEGER NOT NULL REFERENCES notifications(id),
    channel         TEXT   NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt    INTEGER,
    delivered_at    INTEGER,
    failed_at       INTEGER,
    last_error      TEXT   NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    UNIQUE (notification_id, channel)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries(next_attempt, id) WHERE next_attempt IS NOT NULL;

-- A user's choices per event and channel; absent rows take the defaults.
CREATE TABLE notification_prefs (
    user_id INTEGER NOT NULL REFERENCES users(id),
    kind    TEXT   NOT NULL,
    channel TEXT   NOT NULL,
    enabled INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind, channel)
);
