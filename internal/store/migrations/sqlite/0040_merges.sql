-- Merges of duplicates (issue 14 §3). One row per merge: the survivor, the
-- record merged into it (now in the recycle bin), the data keys involved,
-- the survivor's versions around the merge, and in detail (JSON) what the
-- merge re-pointed and re-sealed — ids and field names only, never a value
-- — so that an undo can put everything back. survivor_key lets an erasure
-- of the survivor reach the keys of the people merged into it.
CREATE TABLE merges (
    id             INTEGER PRIMARY KEY,
    object         TEXT    NOT NULL,
    survivor_id    INTEGER NOT NULL,
    merged_id      INTEGER NOT NULL,
    survivor_key   TEXT    NOT NULL DEFAULT '',
    merged_key     TEXT    NOT NULL DEFAULT '',
    version_before INTEGER NOT NULL,
    version_after  INTEGER NOT NULL,
    detail         TEXT    NOT NULL,
    created_by     INTEGER NOT NULL REFERENCES users(id),
    created_at     INTEGER NOT NULL,
    undone_by      INTEGER,
    undone_at      INTEGER
);
CREATE INDEX merges_object ON merges(object, id);
CREATE INDEX merges_survivor_key ON merges(survivor_key);
