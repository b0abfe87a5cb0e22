-- The activity report of someone who sees every user (an administrator)
-- counts the record versions made in a period whoever made them: with
-- record_versions_actor alone (actor first) that read every version ever
-- made; this index reads only the period's.
CREATE INDEX record_versions_at ON record_versions(at, actor_id, version);
