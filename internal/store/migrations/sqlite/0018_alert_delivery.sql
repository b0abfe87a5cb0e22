-- Alert delivery (issue 5): an outbox of alerts to send by webhook or
-- e-mail, written in the transaction that raises the alert and worked off
-- by a background job with retries. next_attempt is when the delivery is
-- due (a claim moves it forward by a lease, so a crashed sender's claim
-- lapses); NULL once delivered or given up.
CREATE TABLE alert_deliveries (
    id           INTEGER PRIMARY KEY,
    alert_id     INTEGER NOT NULL REFERENCES security_alerts(id),
    channel      TEXT    NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER,
    delivered_at INTEGER,
    failed_at    INTEGER,
    last_error   TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    UNIQUE (alert_id, channel)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries(next_attempt, id) WHERE next_attempt IS NOT NULL;
