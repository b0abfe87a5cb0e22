-- Exports (issue 15 §4): every list written to a file, approved or not.
-- seed is the export's fingerprint seed, sealed under a system key, so
-- someone who reads the database alone can neither forge nor recompute a
-- file's fingerprint. An approved export's file waits here sealed under
-- its own data key, which is erased once the file is downloaded (once) or
-- expires.
CREATE TABLE exports (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id),
    object        TEXT    NOT NULL,
    -- filter is the list's filters with the search text and custom values
    -- left out (they may be a phone, an e-mail, a name): what the log
    -- shows; query is the whole filter, sealed, for an approved export.
    filter        TEXT    NOT NULL DEFAULT '{}',
    query         TEXT    NOT NULL DEFAULT '',
    format        TEXT    NOT NULL,
    rows          INTEGER NOT NULL DEFAULT 0,
    seed          TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    approval_id   INTEGER,
    data_key      TEXT    NOT NULL DEFAULT '',
    file          TEXT    NOT NULL DEFAULT '',
    file_name     TEXT    NOT NULL DEFAULT '',
    content_type  TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    ready_at      INTEGER,
    expires_at    INTEGER,
    downloaded_at INTEGER
);
CREATE INDEX exports_user ON exports(user_id, created_at);
CREATE INDEX exports_created ON exports(created_at, id);
CREATE UNIQUE INDEX exports_approval ON exports(approval_id) WHERE approval_id IS NOT NULL;

-- The export permission: administrators and managers keep the reach they
-- had (they could always page through their lists), sales get it when an
-- administrator turns it on for the role.
UPDATE roles SET grants = (
    SELECT json_group_object(g.key, json_set(g.value, '$.export', json('true')))
    FROM json_each(roles.grants) AS g)
WHERE role_key IN ('admin', 'manager') AND grants <> '{}';
