-- Issue 16, reports at 100,000 customers: counts kept per owner and hour
-- (and per owner and UTC day), so a report reads one row per owner and
-- bucket instead of every record it counts (docs/benchmarks.md "Reports at
-- 100,000 customers"). A report period in any zone whose offset is whole
-- hours starts and ends on an hour: it is the sum of the hours at its
-- edges and the UTC days between. Each count belongs to the record's
-- owner now (0: none, the pool), at the hour of the event it counts:
--   customer, lead, follow_up   live records, by creation time
--   won, lost                   live opportunities closed in a stage of
--                               that kind, by closing time, the
--                               currency as detail, with their amounts
--   sign_in                     sign-ins, by user
--   created, updated            record versions (1: created, later:
--                               updated), by the user who made them
--   stay                        the stays in each stage of live won
--                               deals, by closing time, the stage as
--                               detail, amount their total time (ms)
-- Triggers keep the counts in the transaction of every change, whichever
-- code path makes it (create, edit, delete, restore, purge, transfer,
-- claim, release, merge, import, offboarding, restore of a backup).
-- report_counts_recount is the same count from the records themselves:
-- the backfill below and the check every test database runs when its test
-- ends (internal/testdb).
CREATE TABLE report_grains (w BIGINT PRIMARY KEY);
INSERT INTO report_grains (w) VALUES (3600000), (86400000);

CREATE TABLE report_counts (
    metric   TEXT   NOT NULL,
    grain    BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    at       BIGINT NOT NULL,
    detail   TEXT   NOT NULL,
    n        BIGINT NOT NULL,
    amount   BIGINT NOT NULL,
    PRIMARY KEY (metric, grain, owner_id, at, detail)
);


-- The activity report's idle customers per owner (no follow-up since a
-- day, or never and created before it): a range of this index per owner.
CREATE INDEX customers_live_owner_idle ON customers(owner_id, COALESCE(last_followed_up_at, created_at)) WHERE deleted_at IS NULL;

-- The funnel: how far each deal got, its furthest open or won stage's
-- position in its history (NULL: none), kept with the history and with the
-- stages' order, so a cohort's funnel is one count by position from the
-- owner's creation index, not every stage change of every deal.
ALTER TABLE opportunities ADD COLUMN reached_position INTEGER;
CREATE VIEW opportunity_reach_recount AS
SELECT o.id, (SELECT MAX(st.position) FROM opportunity_stage_changes sc JOIN stages st ON st.id = sc.to_stage_id
    WHERE sc.opportunity_id = o.id AND st.kind <> 'lost') AS reached_position
FROM opportunities o;
UPDATE opportunities SET reached_position = (SELECT MAX(st.position) FROM opportunity_stage_changes sc JOIN stages st ON st.id = sc.to_stage_id
    WHERE sc.opportunity_id = opportunities.id AND st.kind <> 'lost');

-- The sales cycle's time in each stage: when each stay ended (left_at, the
-- deal's next change by time, then id; NULL while the deal is still there),
-- kept with the history, so the report sums stays from an index instead of
-- ordering every stage change of the deals won (LEAD over the history).
ALTER TABLE opportunity_stage_changes ADD COLUMN left_at BIGINT;
CREATE VIEW stage_stays_recount AS
SELECT id, LEAD(changed_at) OVER (PARTITION BY opportunity_id ORDER BY changed_at, id) AS left_at FROM opportunity_stage_changes;
UPDATE opportunity_stage_changes SET left_at = (SELECT s2.changed_at FROM opportunity_stage_changes s2 WHERE s2.opportunity_id = opportunity_stage_changes.opportunity_id
        AND (s2.changed_at > opportunity_stage_changes.changed_at OR (s2.changed_at = opportunity_stage_changes.changed_at AND s2.id > opportunity_stage_changes.id)) ORDER BY s2.changed_at, s2.id LIMIT 1);

-- The counts from the records (after the stays' ends they count).
CREATE VIEW report_counts_recount AS
SELECT e.metric, g.w AS grain, e.owner_id, e.at - e.at % g.w AS at, e.detail, SUM(e.n) AS n, SUM(e.amount) AS amount
FROM (
    SELECT 'customer' AS metric, COALESCE(owner_id, 0) AS owner_id, created_at AS at, '' AS detail, 1 AS n, 0 AS amount
    FROM customers WHERE deleted_at IS NULL
    UNION ALL SELECT 'lead', COALESCE(owner_id, 0), created_at, '', 1, 0 FROM leads WHERE deleted_at IS NULL
    UNION ALL SELECT 'follow_up', owner_id, created_at, '', 1, 0 FROM follow_ups WHERE deleted_at IS NULL
    UNION ALL SELECT s.kind, o.owner_id, o.closed_at, o.currency, 1, o.amount FROM opportunities o JOIN stages s ON s.id = o.stage_id
    WHERE s.kind IN ('won', 'lost') AND o.closed_at IS NOT NULL AND o.deleted_at IS NULL
    UNION ALL SELECT 'sign_in', user_id, at, '', 1, 0 FROM sign_ins
    UNION ALL SELECT CASE WHEN version = 1 THEN 'created' ELSE 'updated' END, actor_id, at, '', 1, 0 FROM record_versions
    UNION ALL SELECT 'stay', o.owner_id, o.closed_at, CAST(sc.to_stage_id AS TEXT), 1, sc.left_at - sc.changed_at
    FROM opportunity_stage_changes sc JOIN opportunities o ON o.id = sc.opportunity_id JOIN stages s ON s.id = o.stage_id
    WHERE s.kind = 'won' AND o.closed_at IS NOT NULL AND o.deleted_at IS NULL AND sc.left_at IS NOT NULL
) e CROSS JOIN report_grains g
GROUP BY e.metric, g.w, e.owner_id, e.at - e.at % g.w, e.detail;

INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
SELECT metric, grain, owner_id, at, detail, n, amount FROM report_counts_recount;

-- The reports that read the deals themselves, led by their owner and
-- covering what each sums, so a team's deals are a few ranges of an index:
-- the open pipeline by stage, the forecast by expected close date, the
-- closed deals (lost reasons, the sales cycle), the funnel's cohort and
-- its reach (grouped in the index's order: no sort); and
-- each deal's stage history in order with the stages it went to. (Each
-- ends with deleted_at, always NULL in it, so SQLite can check "live" from
-- the index instead of fetching the deal.)
CREATE INDEX opportunities_live_owner_stage ON opportunities(owner_id, stage_id, currency, amount, deleted_at) WHERE deleted_at IS NULL;
CREATE INDEX opportunities_live_owner_close ON opportunities(owner_id, expected_close_date, stage_id, currency, amount, deleted_at) WHERE deleted_at IS NULL;
CREATE INDEX opportunities_live_owner_closed ON opportunities(owner_id, closed_at, stage_id, created_at, currency, lost_reason, deleted_at) WHERE deleted_at IS NULL AND closed_at IS NOT NULL;
CREATE INDEX opportunities_live_owner_created ON opportunities(owner_id, created_at, stage_id, currency, reached_position, deleted_at) WHERE deleted_at IS NULL;
CREATE INDEX opportunities_live_owner_reach ON opportunities(owner_id, reached_position, created_at, deleted_at) WHERE deleted_at IS NULL;
CREATE INDEX opportunity_stage_changes_history ON opportunity_stage_changes(opportunity_id, changed_at, id, to_stage_id, left_at);
DROP INDEX opportunity_stage_changes_opp;

-- report_count adds n (and amount) to a count's hour and day, in the order
-- of the grains so two transactions take the rows' locks in one order.
CREATE FUNCTION report_count(p_metric TEXT, p_owner BIGINT, p_at BIGINT, p_detail TEXT, p_n BIGINT, p_amount BIGINT) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT p_metric, g.w, COALESCE(p_owner, 0), p_at - p_at % g.w, p_detail, p_n, p_amount FROM report_grains g ORDER BY g.w
    ON CONFLICT (metric, grain, owner_id, at, detail)
    DO UPDATE SET n = report_counts.n + EXCLUDED.n, amount = report_counts.amount + EXCLUDED.amount
$$;

-- The triggers: each change takes back what the row counted before and
-- adds what it counts now. One function per table serves its insert,
-- delete and (when a counted column changed) update triggers.
CREATE FUNCTION report_counts_owned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL THEN
        PERFORM report_count(TG_ARGV[0], OLD.owner_id, OLD.created_at, '', -1, 0);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL THEN
        PERFORM report_count(TG_ARGV[0], NEW.owner_id, NEW.created_at, '', 1, 0);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION report_counts_sign_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM report_count('sign_in', OLD.user_id, OLD.at, '', -1, 0);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM report_count('sign_in', NEW.user_id, NEW.at, '', 1, 0);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION report_counts_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM report_count(CASE WHEN OLD.version = 1 THEN 'created' ELSE 'updated' END, OLD.actor_id, OLD.at, '', -1, 0);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM report_count(CASE WHEN NEW.version = 1 THEN 'created' ELSE 'updated' END, NEW.actor_id, NEW.at, '', 1, 0);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION report_counts_opportunities() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k TEXT;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.closed_at IS NOT NULL AND OLD.deleted_at IS NULL THEN
        SELECT kind INTO k FROM stages WHERE id = OLD.stage_id;
        IF k IN ('won', 'lost') THEN
            PERFORM report_count(k, OLD.owner_id, OLD.closed_at, OLD.currency, -1, -OLD.amount);
        END IF;
        IF k = 'won' THEN
            PERFORM report_stays(OLD.id, OLD.owner_id, OLD.closed_at, -1);
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.closed_at IS NOT NULL AND NEW.deleted_at IS NULL THEN
        SELECT kind INTO k FROM stages WHERE id = NEW.stage_id;
        IF k IN ('won', 'lost') THEN
            PERFORM report_count(k, NEW.owner_id, NEW.closed_at, NEW.currency, 1, NEW.amount);
        END IF;
        IF k = 'won' THEN
            PERFORM report_stays(NEW.id, NEW.owner_id, NEW.closed_at, 1);
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER report_counts_customers AFTER INSERT OR DELETE ON customers
    FOR EACH ROW EXECUTE FUNCTION report_counts_owned('customer');
CREATE TRIGGER report_counts_customers_change AFTER UPDATE OF owner_id, created_at, deleted_at ON customers
    FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.created_at <> NEW.created_at OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL))
    EXECUTE FUNCTION report_counts_owned('customer');
CREATE TRIGGER report_counts_leads AFTER INSERT OR DELETE ON leads
    FOR EACH ROW EXECUTE FUNCTION report_counts_owned('lead');
CREATE TRIGGER report_counts_leads_change AFTER UPDATE OF owner_id, created_at, deleted_at ON leads
    FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.created_at <> NEW.created_at OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL))
    EXECUTE FUNCTION report_counts_owned('lead');
CREATE TRIGGER report_counts_follow_ups AFTER INSERT OR DELETE ON follow_ups
    FOR EACH ROW EXECUTE FUNCTION report_counts_owned('follow_up');
CREATE TRIGGER report_counts_follow_ups_change AFTER UPDATE OF owner_id, created_at, deleted_at ON follow_ups
    FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.created_at <> NEW.created_at OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL))
    EXECUTE FUNCTION report_counts_owned('follow_up');
CREATE TRIGGER report_counts_sign_ins AFTER INSERT OR DELETE ON sign_ins
    FOR EACH ROW EXECUTE FUNCTION report_counts_sign_ins();
CREATE TRIGGER report_counts_sign_ins_change AFTER UPDATE OF user_id, at ON sign_ins
    FOR EACH ROW WHEN (OLD.user_id <> NEW.user_id OR OLD.at <> NEW.at) EXECUTE FUNCTION report_counts_sign_ins();
CREATE TRIGGER report_counts_record_versions AFTER INSERT OR DELETE ON record_versions
    FOR EACH ROW EXECUTE FUNCTION report_counts_versions();
CREATE TRIGGER report_counts_record_versions_change AFTER UPDATE OF actor_id, at, version ON record_versions
    FOR EACH ROW WHEN (OLD.actor_id <> NEW.actor_id OR OLD.at <> NEW.at OR OLD.version <> NEW.version) EXECUTE FUNCTION report_counts_versions();
CREATE TRIGGER report_counts_opportunities AFTER INSERT OR DELETE ON opportunities
    FOR EACH ROW EXECUTE FUNCTION report_counts_opportunities();
CREATE TRIGGER report_counts_opportunities_change AFTER UPDATE OF owner_id, stage_id, closed_at, currency, amount, deleted_at ON opportunities
    FOR EACH ROW WHEN (OLD.owner_id <> NEW.owner_id OR OLD.stage_id <> NEW.stage_id OR OLD.closed_at IS DISTINCT FROM NEW.closed_at
        OR OLD.currency <> NEW.currency OR OLD.amount <> NEW.amount OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL))
    EXECUTE FUNCTION report_counts_opportunities();

-- The funnel's reach follows the history and the stages' order.
CREATE FUNCTION opportunities_reach() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'stages' THEN
        UPDATE opportunities o SET reached_position = r.reached_position FROM opportunity_reach_recount r
        WHERE r.id = o.id AND o.reached_position IS DISTINCT FROM r.reached_position;
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        UPDATE opportunities o SET reached_position = st.position FROM stages st
        WHERE o.id = NEW.opportunity_id AND st.id = NEW.to_stage_id AND st.kind <> 'lost' AND st.position > COALESCE(o.reached_position, -1);
        RETURN NULL;
    END IF;
    UPDATE opportunities o SET reached_position = r.reached_position FROM opportunity_reach_recount r
    WHERE r.id = o.id AND o.id IN (OLD.opportunity_id, CASE WHEN TG_OP = 'UPDATE' THEN NEW.opportunity_id END);
    RETURN NULL;
END $$;
CREATE TRIGGER opportunities_reach AFTER INSERT OR DELETE ON opportunity_stage_changes
    FOR EACH ROW EXECUTE FUNCTION opportunities_reach();
CREATE TRIGGER opportunities_reach_change AFTER UPDATE OF opportunity_id, to_stage_id ON opportunity_stage_changes
    FOR EACH ROW EXECUTE FUNCTION opportunities_reach();
CREATE TRIGGER opportunities_reach_stages AFTER UPDATE OF position, kind ON stages
    FOR EACH ROW WHEN (OLD.position <> NEW.position OR OLD.kind <> NEW.kind) EXECUTE FUNCTION opportunities_reach();

-- Each stay in a stage ends where the next begins.
CREATE FUNCTION stage_stays() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE opportunity_stage_changes sc SET left_at = (SELECT s2.changed_at FROM opportunity_stage_changes s2 WHERE s2.opportunity_id = sc.opportunity_id
        AND (s2.changed_at > sc.changed_at OR (s2.changed_at = sc.changed_at AND s2.id > sc.id)) ORDER BY s2.changed_at, s2.id LIMIT 1)
    WHERE sc.opportunity_id IN (OLD.opportunity_id, NEW.opportunity_id);
    RETURN NULL;
END $$;
CREATE TRIGGER stage_stays AFTER INSERT OR DELETE ON opportunity_stage_changes
    FOR EACH ROW EXECUTE FUNCTION stage_stays();
CREATE TRIGGER stage_stays_change AFTER UPDATE OF opportunity_id, changed_at ON opportunity_stage_changes
    FOR EACH ROW EXECUTE FUNCTION stage_stays();

-- A won deal's stays in each stage count for its owner at its closing time
-- (the stage as detail, amount their total time): they follow the deal
-- (report_counts_opportunities) and each stay's end (below).
CREATE FUNCTION report_stays(p_opp BIGINT, p_owner BIGINT, p_closed BIGINT, p_sign BIGINT) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'stay', g.w, p_owner, p_closed - p_closed % g.w, CAST(sc.to_stage_id AS TEXT), p_sign * COUNT(*), p_sign * SUM(sc.left_at - sc.changed_at)
    FROM opportunity_stage_changes sc CROSS JOIN report_grains g WHERE sc.opportunity_id = p_opp AND sc.left_at IS NOT NULL
    GROUP BY g.w, sc.to_stage_id ORDER BY g.w, sc.to_stage_id
    ON CONFLICT (metric, grain, owner_id, at, detail)
    DO UPDATE SET n = report_counts.n + EXCLUDED.n, amount = report_counts.amount + EXCLUDED.amount
$$;

CREATE FUNCTION report_counts_stays() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d RECORD;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.left_at IS NOT NULL THEN
        SELECT o.owner_id, o.closed_at INTO d FROM opportunities o JOIN stages s ON s.id = o.stage_id
        WHERE o.id = OLD.opportunity_id AND s.kind = 'won' AND o.closed_at IS NOT NULL AND o.deleted_at IS NULL;
        IF FOUND THEN
            PERFORM report_count('stay', d.owner_id, d.closed_at, CAST(OLD.to_stage_id AS TEXT), -1, -(OLD.left_at - OLD.changed_at));
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.left_at IS NOT NULL THEN
        SELECT o.owner_id, o.closed_at INTO d FROM opportunities o JOIN stages s ON s.id = o.stage_id
        WHERE o.id = NEW.opportunity_id AND s.kind = 'won' AND o.closed_at IS NOT NULL AND o.deleted_at IS NULL;
        IF FOUND THEN
            PERFORM report_count('stay', d.owner_id, d.closed_at, CAST(NEW.to_stage_id AS TEXT), 1, NEW.left_at - NEW.changed_at);
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER report_counts_stays AFTER INSERT OR DELETE ON opportunity_stage_changes
    FOR EACH ROW EXECUTE FUNCTION report_counts_stays();
CREATE TRIGGER report_counts_stays_change AFTER UPDATE OF opportunity_id, to_stage_id, changed_at, left_at ON opportunity_stage_changes
    FOR EACH ROW WHEN (OLD.opportunity_id <> NEW.opportunity_id OR OLD.to_stage_id <> NEW.to_stage_id OR OLD.changed_at <> NEW.changed_at
        OR OLD.left_at IS DISTINCT FROM NEW.left_at)
    EXECUTE FUNCTION report_counts_stays();
