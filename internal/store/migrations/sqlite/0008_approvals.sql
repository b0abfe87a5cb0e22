-- Approvals for risky operations (issue 3): one policy per kind, and the
-- requests with their decisions. A request's payload is the change as its
-- use case takes it; it applies only after the last level approves.
CREATE TABLE approval_policies (
    kind       TEXT PRIMARY KEY,
    enabled    INTEGER NOT NULL DEFAULT 0,
    threshold  INTEGER NOT NULL DEFAULT 0,
    fields     TEXT NOT NULL DEFAULT '{}',
    steps      TEXT NOT NULL DEFAULT '[]',
    updated_at INTEGER NOT NULL
);

CREATE TABLE approval_requests (
    id             INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL,
    object         TEXT NOT NULL,
    record_id      INTEGER NOT NULL DEFAULT 0,
    record_version INTEGER NOT NULL DEFAULT 0,
    record_ids     TEXT NOT NULL DEFAULT '',
    payload        TEXT NOT NULL,
    summary        TEXT NOT NULL DEFAULT '',
    requester_id   INTEGER NOT NULL REFERENCES users(id),
    status         TEXT NOT NULL,
    step           INTEGER NOT NULL DEFAULT 0,
    steps          TEXT NOT NULL,
    decisions      TEXT NOT NULL DEFAULT '[]',
    result         TEXT NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    decided_at     INTEGER
);
CREATE INDEX approval_requests_status ON approval_requests(status, id);
CREATE INDEX approval_requests_requester ON approval_requests(requester_id, id);
