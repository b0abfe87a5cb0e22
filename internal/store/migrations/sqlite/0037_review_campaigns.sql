-- Data review campaigns (issue 14 §4): an administrator or a manager asks
-- the owners of a set of records to confirm or correct each of them by a
-- due date. The records are fixed when the campaign starts (review_items);
-- who reviews them follows each record's current owner. previous_id is
-- unique, so a recurring campaign starts its next one at most once, however
-- many instances run the job; review_tasks' key gives each owner at most
-- one task per campaign.
CREATE TABLE review_campaigns (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    objects       TEXT    NOT NULL,
    selection     TEXT    NOT NULL,
    below_score   INTEGER NOT NULL DEFAULT 0,
    scope_kind    TEXT    NOT NULL,
    department_id INTEGER REFERENCES departments(id),
    started_by    INTEGER REFERENCES users(id),
    started_at    INTEGER NOT NULL,
    due_at        INTEGER NOT NULL,
    recur_months  INTEGER NOT NULL DEFAULT 0,
    previous_id   INTEGER UNIQUE REFERENCES review_campaigns(id),
    status        TEXT    NOT NULL DEFAULT 'open',
    closed_at     INTEGER
);
CREATE INDEX review_campaigns_status ON review_campaigns(status, due_at);

CREATE TABLE review_items (
    campaign_id INTEGER NOT NULL REFERENCES review_campaigns(id),
    object      TEXT    NOT NULL,
    record_id   INTEGER NOT NULL,
    reviewed_at INTEGER,
    reviewed_by INTEGER,
    outcome     TEXT,
    PRIMARY KEY (campaign_id, object, record_id)
);
CREATE INDEX review_items_record ON review_items(object, record_id);

CREATE TABLE review_tasks (
    campaign_id INTEGER NOT NULL REFERENCES review_campaigns(id),
    owner_id    INTEGER NOT NULL REFERENCES users(id),
    task_id     INTEGER REFERENCES tasks(id),
    PRIMARY KEY (campaign_id, owner_id)
);

-- The quality page counts records in a pair of the latest scan from either
-- side; the pairs' key serves id_a, this serves id_b.
CREATE INDEX dup_pairs_b ON dup_pairs(scan_id, id_b);
