-- Custos core schema (SQLite). Times are Unix milliseconds (UTC) in both
-- dialects, so comparisons and cursors behave the same everywhere.
CREATE TABLE departments (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    parent_id   INTEGER REFERENCES departments(id),
    manager_id  INTEGER,
    path        TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX departments_path ON departments(path);

CREATE TABLE roles (
    id         INTEGER PRIMARY KEY,
    role_key   TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    admin      INTEGER NOT NULL DEFAULT 0,
    grants     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    username       TEXT    NOT NULL UNIQUE,
    display_name   TEXT    NOT NULL,
    email          TEXT    NOT NULL DEFAULT '',
    password_hash  TEXT    NOT NULL,
    department_id  INTEGER NOT NULL REFERENCES departments(id),
    role_id        INTEGER NOT NULL REFERENCES roles(id),
    lang           TEXT    NOT NULL DEFAULT '',
    disabled       INTEGER NOT NULL DEFAULT 0,
    must_change_pw INTEGER NOT NULL DEFAULT 0,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX users_department ON users(department_id);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT    NOT NULL UNIQUE,
    csrf_token   TEXT    NOT NULL,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    ip           TEXT    NOT NULL DEFAULT '',
    user_agent   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    prefix       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0,
    expires_at   INTEGER NOT NULL DEFAULT 0,
    revoked_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE login_attempts (
    id       INTEGER PRIMARY KEY,
    username TEXT    NOT NULL,
    ip       TEXT    NOT NULL,
    at       INTEGER NOT NULL,
    ok       INTEGER NOT NULL
);
CREATE INDEX login_attempts_ip ON login_attempts(ip, at);

CREATE TABLE customers (
    id                  INTEGER PRIMARY KEY,
    owner_id            INTEGER REFERENCES users(id),
    name                TEXT    NOT NULL,
    industry            TEXT    NOT NULL DEFAULT '',
    level               TEXT    NOT NULL DEFAULT '',
    source              TEXT    NOT NULL DEFAULT '',
    status              TEXT    NOT NULL DEFAULT 'prospect',
    province            TEXT    NOT NULL DEFAULT '',
    city                TEXT    NOT NULL DEFAULT '',
    address             TEXT    NOT NULL DEFAULT '',
    website             TEXT    NOT NULL DEFAULT '',
    phone               TEXT    NOT NULL DEFAULT '',
    email               TEXT    NOT NULL DEFAULT '',
    credit_code         TEXT    NOT NULL DEFAULT '',
    tags                TEXT    NOT NULL DEFAULT '[]',
    custom              TEXT    NOT NULL DEFAULT '{}',
    last_followed_up_at INTEGER,
    next_follow_up_at   INTEGER,
    created_by          INTEGER NOT NULL,
    updated_by          INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    version             INTEGER NOT NULL DEFAULT 1,
    deleted_at          INTEGER
);
CREATE INDEX customers_owner_updated ON customers(owner_id, updated_at, id);
CREATE INDEX customers_updated ON customers(updated_at, id);

CREATE TABLE contacts (
    id          INTEGER PRIMARY KEY,
    owner_id    INTEGER REFERENCES users(id),
    customer_id INTEGER REFERENCES customers(id),
    name        TEXT    NOT NULL,
    title       TEXT    NOT NULL DEFAULT '',
    mobile      TEXT    NOT NULL DEFAULT '',
    phone       TEXT    NOT NULL DEFAULT '',
    email       TEXT    NOT NULL DEFAULT '',
    wechat      TEXT    NOT NULL DEFAULT '',
    notes       TEXT    NOT NULL DEFAULT '',
    custom      TEXT    NOT NULL DEFAULT '{}',
    created_by  INTEGER NOT NULL,
    updated_by  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    deleted_at  INTEGER
);
CREATE INDEX contacts_customer ON contacts(customer_id);
CREATE INDEX contacts_owner_updated ON contacts(owner_id, updated_at, id);
CREATE INDEX contacts_updated ON contacts(updated_at, id);

CREATE TABLE follow_ups (
    id             INTEGER PRIMARY KEY,
    owner_id       INTEGER NOT NULL REFERENCES users(id),
    kind           TEXT    NOT NULL,
    content        TEXT    NOT NULL,
    occurred_at    INTEGER NOT NULL,
    next_at        INTEGER,
    customer_id    INTEGER REFERENCES customers(id),
    contact_id     INTEGER REFERENCES contacts(id),
    created_by     INTEGER NOT NULL,
    updated_by     INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1,
    deleted_at     INTEGER
);
CREATE INDEX follow_ups_customer ON follow_ups(customer_id, occurred_at, id);
CREATE INDEX follow_ups_owner ON follow_ups(owner_id, occurred_at, id);
CREATE INDEX follow_ups_next ON follow_ups(owner_id, next_at);

-- dedup_keys holds the normalised phone, e-mail, credit code and company-name
-- keys of every customer, contact and lead, so the entry-time duplicate check
-- (撞单) and exact search look across the whole organisation in one lookup.
CREATE TABLE dedup_keys (
    kind      TEXT    NOT NULL,
    key       TEXT    NOT NULL,
    object    TEXT    NOT NULL,
    record_id INTEGER NOT NULL,
    PRIMARY KEY (kind, key, object, record_id)
);
CREATE INDEX dedup_keys_record ON dedup_keys(object, record_id);

-- search_terms indexes names by words and Chinese character bigrams.
CREATE TABLE search_terms (
    object    TEXT    NOT NULL,
    term      TEXT    NOT NULL,
    record_id INTEGER NOT NULL,
    PRIMARY KEY (object, term, record_id)
);
CREATE INDEX search_terms_record ON search_terms(object, record_id);

CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor_kind  TEXT    NOT NULL,
    actor_id    INTEGER NOT NULL DEFAULT 0,
    actor_name  TEXT    NOT NULL DEFAULT '',
    action      TEXT    NOT NULL,
    object      TEXT    NOT NULL DEFAULT '',
    record_id   INTEGER NOT NULL DEFAULT 0,
    record_ids  TEXT    NOT NULL DEFAULT '',
    fields      TEXT    NOT NULL DEFAULT '',
    outcome     TEXT    NOT NULL DEFAULT 'ok',
    ip          TEXT    NOT NULL DEFAULT '',
    user_agent  TEXT    NOT NULL DEFAULT '',
    request_id  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_record ON audit_events(object, record_id, id);
CREATE INDEX audit_events_actor ON audit_events(actor_id, id);

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
