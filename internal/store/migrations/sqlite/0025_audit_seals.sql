-- Sealing appends; it no longer rewrites events (issue 5, docs/benchmarks.md).
-- The sealer used to UPDATE every event with its log position and chain
-- link. Since seq was indexed, no update was a heap-only one: each wrote a
-- second row version and a second entry in every index of the trail,
-- doubling the cost of each event on PostgreSQL. Now an event is written
-- once, with a row in audit_pending (its place in the sealer's queue, in
-- the same transaction); the sealer appends its position and link to
-- audit_seals and takes it off the queue. A refused event (a MAC that is
-- not Custos's) stays on the queue, marked, for verify to report.
CREATE TABLE audit_seals (
    seq      BIGINT PRIMARY KEY,
    event_id BIGINT NOT NULL UNIQUE,
    link     TEXT   NOT NULL
);
CREATE TABLE audit_pending (
    event_id BIGINT  PRIMARY KEY,
    refused  INTEGER NOT NULL DEFAULT 0
);
INSERT INTO audit_seals (seq, event_id, link) SELECT seq, id, link FROM audit_events WHERE seq IS NOT NULL;
INSERT INTO audit_pending (event_id, refused) SELECT id, CASE WHEN link = 'refused' THEN 1 ELSE 0 END FROM audit_events WHERE seq IS NULL;
DROP INDEX audit_events_unsealed;
DROP INDEX audit_events_seq;
ALTER TABLE audit_events DROP COLUMN seq;
ALTER TABLE audit_events DROP COLUMN link;
