-- Leads, opportunities with configurable stages and their history, tasks and
-- custom field definitions (SQLite).
CREATE TABLE stages (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    name_en     TEXT    NOT NULL DEFAULT '',
    position    INTEGER NOT NULL,
    probability INTEGER NOT NULL DEFAULT 0,
    kind        TEXT    NOT NULL DEFAULT 'open',
    active      INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE leads (
    id                 INTEGER PRIMARY KEY,
    owner_id           INTEGER REFERENCES users(id),
    name               TEXT    NOT NULL,
    company            TEXT    NOT NULL DEFAULT '',
    title              TEXT    NOT NULL DEFAULT '',
    mobile             TEXT    NOT NULL DEFAULT '',
    email              TEXT    NOT NULL DEFAULT '',
    wechat             TEXT    NOT NULL DEFAULT '',
    source             TEXT    NOT NULL DEFAULT '',
    status             TEXT    NOT NULL DEFAULT 'new',
    notes              TEXT    NOT NULL DEFAULT '',
    custom             TEXT    NOT NULL DEFAULT '{}',
    customer_id        INTEGER REFERENCES customers(id),
    contact_id         INTEGER REFERENCES contacts(id),
    opportunity_id     INTEGER,
    converted_at       INTEGER,
    created_by         INTEGER NOT NULL,
    updated_by         INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    version            INTEGER NOT NULL DEFAULT 1,
    deleted_at         INTEGER
);
CREATE INDEX leads_owner_updated ON leads(owner_id, updated_at, id);
CREATE INDEX leads_updated ON leads(updated_at, id);

CREATE TABLE opportunities (
    id                  INTEGER PRIMARY KEY,
    owner_id            INTEGER NOT NULL REFERENCES users(id),
    customer_id         INTEGER NOT NULL REFERENCES customers(id),
    name                TEXT    NOT NULL,
    amount              INTEGER NOT NULL DEFAULT 0,
    currency            TEXT    NOT NULL DEFAULT 'CNY',
    expected_close_date TEXT    NOT NULL DEFAULT '',
    stage_id            INTEGER NOT NULL REFERENCES stages(id),
    probability         INTEGER NOT NULL DEFAULT 0,
    lost_reason         TEXT    NOT NULL DEFAULT '',
    stage_changed_at    INTEGER NOT NULL,
    closed_at           INTEGER,
    custom              TEXT    NOT NULL DEFAULT '{}',
    created_by          INTEGER NOT NULL,
    updated_by          INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    version             INTEGER NOT NULL DEFAULT 1,
    deleted_at          INTEGER
);
CREATE INDEX opportunities_customer ON opportunities(customer_id);
CREATE INDEX opportunities_owner_updated ON opportunities(owner_id, updated_at, id);
CREATE INDEX opportunities_updated ON opportunities(updated_at, id);
CREATE INDEX opportunities_stage ON opportunities(stage_id);

-- Every stage change with its time, for cycle-time reports.
CREATE TABLE opportunity_stage_changes (
    id             INTEGER PRIMARY KEY,
    opportunity_id INTEGER NOT NULL REFERENCES opportunities(id),
    from_stage_id  INTEGER,
    to_stage_id    INTEGER NOT NULL,
    changed_at     INTEGER NOT NULL,
    changed_by     INTEGER NOT NULL
);
CREATE INDEX opportunity_stage_changes_opp ON opportunity_stage_changes(opportunity_id, changed_at);

CREATE TABLE tasks (
    id             INTEGER PRIMARY KEY,
    owner_id       INTEGER NOT NULL REFERENCES users(id),
    title          TEXT    NOT NULL,
    notes          TEXT    NOT NULL DEFAULT '',
    due_at         INTEGER,
    done           INTEGER NOT NULL DEFAULT 0,
    done_at        INTEGER,
    customer_id    INTEGER REFERENCES customers(id),
    opportunity_id INTEGER REFERENCES opportunities(id),
    created_by     INTEGER NOT NULL,
    updated_by     INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1,
    deleted_at     INTEGER
);
CREATE INDEX tasks_owner_due ON tasks(owner_id, done, due_at);
CREATE INDEX tasks_customer ON tasks(customer_id);

ALTER TABLE follow_ups ADD COLUMN opportunity_id INTEGER REFERENCES opportunities(id);
ALTER TABLE follow_ups ADD COLUMN lead_id INTEGER REFERENCES leads(id);

CREATE TABLE custom_fields (
    id         INTEGER PRIMARY KEY,
    object     TEXT    NOT NULL,
    field_key  TEXT    NOT NULL,
    label      TEXT    NOT NULL,
    label_en   TEXT    NOT NULL DEFAULT '',
    field_type TEXT    NOT NULL,
    required   INTEGER NOT NULL DEFAULT 0,
    is_unique  INTEGER NOT NULL DEFAULT 0,
    options    TEXT    NOT NULL DEFAULT '[]',
    in_list    INTEGER NOT NULL DEFAULT 0,
    position   INTEGER NOT NULL DEFAULT 0,
    active     INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    UNIQUE (object, field_key)
);

INSERT INTO stages (name, name_en, position, probability, kind) VALUES
    ('初步接洽', 'Initial contact', 1, 10, 'open'),
    ('需求分析', 'Needs analysis', 2, 30, 'open'),
    ('方案报价', 'Proposal', 3, 50, 'open'),
    ('商务谈判', 'Negotiation', 4, 70, 'open'),
    ('赢单', 'Won', 5, 100, 'won'),
    ('输单', 'Lost', 6, 0, 'lost');
