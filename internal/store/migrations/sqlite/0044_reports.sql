-- Issue 16, reports: the reports permission on roles (administrators,
-- managers and sales have it by default, the auditor and the privacy
-- officer not), and two facts nothing queryable kept until now. Pool moves
-- and sign-ins reached only the audit trail, which is archived out of the
-- database in segments, so a report over last year would silently count
-- less. Both rows are written in the same transaction as the move or the
-- sign-in they describe. No foreign keys: a purged customer's moves still
-- count in the period they happened.
ALTER TABLE roles ADD COLUMN reports INTEGER NOT NULL DEFAULT 0;
UPDATE roles SET reports = 1 WHERE admin = 1 OR role_key IN ('manager', 'sales');

-- kind is 'enter' (the customer went into the public pool) or 'leave' (it
-- was claimed). owner_id is the owner on the owned side of the move: the
-- owner it left for an entry, the claimer for a claim; reports scope moves
-- by it.
CREATE TABLE pool_moves (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    owner_id    INTEGER NOT NULL,
    actor_id    INTEGER NOT NULL DEFAULT 0,
    at          INTEGER NOT NULL
);
CREATE INDEX pool_moves_at ON pool_moves(at, owner_id);

CREATE TABLE sign_ins (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX sign_ins_user ON sign_ins(user_id, at);
CREATE INDEX sign_ins_at ON sign_ins(at, user_id);

-- What the report queries select by besides the indexes the lists have:
-- follow-ups logged in a period, record versions (records created and
-- updated) in a period, opportunities closed in a period.
CREATE INDEX follow_ups_live_created ON follow_ups(created_at, owner_id) WHERE deleted_at IS NULL;
CREATE INDEX record_versions_actor ON record_versions(actor_id, at, version);
CREATE INDEX opportunities_live_closed ON opportunities(closed_at, owner_id) WHERE deleted_at IS NULL AND closed_at IS NOT NULL;
