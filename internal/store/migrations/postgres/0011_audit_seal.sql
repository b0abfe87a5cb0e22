-- Tamper evidence (issue 5). Each event carries a MAC made with a key kept
-- outside the database and a random nonce, written with the event; the
-- sealer then gives it a log position (seq) and the hash chain's link.
-- Signed checkpoints of the chain are kept here and outside the database.
ALTER TABLE audit_events ADD COLUMN nonce TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN mac TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN seq BIGINT;
ALTER TABLE audit_events ADD COLUMN link TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX audit_events_seq ON audit_events(seq);
CREATE TABLE audit_checkpoints (
    size       BIGINT PRIMARY KEY,
    head       TEXT NOT NULL,
    note       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_events_unsealed ON audit_events(id) WHERE seq IS NULL;
-- Events written before this version carry no MAC; the sealer adopts those
-- up to this id as they are (they predate the key), and nothing newer.
INSERT INTO settings (name, value) SELECT 'audit_legacy_max_id', CAST(COALESCE(MAX(id), 0) AS TEXT) FROM audit_events;
