-- The duplicate finder (issue 14 §3). A scan files every live record of an
-- object under blind blocking keys (HMACs, never values), pairs the records
-- that share a key, scores each pair and keeps those at or above its
-- threshold. The blocks are scratch, removed when the scan ends.
CREATE TABLE dup_scans (
    id             INTEGER PRIMARY KEY,
    object         TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    threshold      REAL    NOT NULL,
    started_at     INTEGER NOT NULL,
    finished_at    INTEGER,
    records        INTEGER NOT NULL DEFAULT 0,
    keys           INTEGER NOT NULL DEFAULT 0,
    blocks_skipped INTEGER NOT NULL DEFAULT 0,
    candidates     INTEGER NOT NULL DEFAULT 0,
    pairs          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX dup_scans_object ON dup_scans(object, id);

-- dup_blocks files each record under its keys as the scan reads the records
-- in id order, so the rows append at the end of the primary key: filing in
-- key order would touch the whole tree with every page of records. The
-- key is the first 64 bits of the key's HMAC: integers keep the tables
-- small and compares cheap; a collision only adds a candidate pair.
CREATE TABLE dup_blocks (
    scan_id   INTEGER NOT NULL,
    record_id INTEGER NOT NULL,
    key       INTEGER NOT NULL,
    PRIMARY KEY (scan_id, record_id, key)
) WITHOUT ROWID;

-- dup_keys is the same rows in key order, written once in one sorted
-- statement when filing is done, without the keys one record alone holds
-- or too many share: the candidate pairs are read from it.
CREATE TABLE dup_keys (
    scan_id   INTEGER NOT NULL,
    key       INTEGER NOT NULL,
    record_id INTEGER NOT NULL,
    PRIMARY KEY (scan_id, key, record_id)
) WITHOUT ROWID;

CREATE TABLE dup_pairs (
    scan_id INTEGER NOT NULL REFERENCES dup_scans(id),
    object  TEXT    NOT NULL,
    id_a    INTEGER NOT NULL,
    id_b    INTEGER NOT NULL,
    score   REAL    NOT NULL,
    reasons TEXT    NOT NULL,
    status  TEXT    NOT NULL DEFAULT 'open',
    PRIMARY KEY (scan_id, id_a, id_b)
);
CREATE INDEX dup_pairs_score ON dup_pairs(scan_id, score);
