-- Sharing (issue 3): a record shared with a user or a department, to read
-- or to edit, optionally until a time. Scopes add these rows to what the
-- owner-based scope reaches.
CREATE TABLE record_shares (
    id          INTEGER PRIMARY KEY,
    object      TEXT NOT NULL,
    record_id   INTEGER NOT NULL,
    user_id     INTEGER REFERENCES users(id),
    dept_id     INTEGER REFERENCES departments(id),
    level       TEXT NOT NULL,
    expires_at  INTEGER,
    created_by  INTEGER NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    CHECK ((user_id IS NULL) <> (dept_id IS NULL)),
    CHECK (level IN ('read', 'edit'))
);
CREATE INDEX record_shares_user ON record_shares(user_id, object);
CREATE INDEX record_shares_dept ON record_shares(dept_id, object);
CREATE INDEX record_shares_record ON record_shares(object, record_id);
