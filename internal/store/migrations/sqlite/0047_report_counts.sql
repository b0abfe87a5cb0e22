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
) WITHOUT ROWID;


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
ALTER TABLE opportunity_stage_changes ADD COLUMN left_at INTEGER;
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

-- The triggers: each change takes back what the row counted before and
-- adds what it counts now, in the hour and the day (report_grains).
CREATE TRIGGER report_counts_customers_add AFTER INSERT ON customers
BEGIN
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'customer', g.w, COALESCE(NEW.owner_id, 0), NEW.created_at - NEW.created_at % g.w, '', 1, 0 FROM report_grains g WHERE NEW.deleted_at IS NULL
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
END;
CREATE TRIGGER report_counts_customers_gone AFTER DELETE ON customers
BEGIN
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'customer', g.w, COALESCE(OLD.owner_id, 0), OLD.created_at - OLD.created_at % g.w, '', -1, 0 FROM report_grains g WHERE OLD.deleted_at IS NULL
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
END;
CREATE TRIGGER report_counts_customers_change AFTER UPDATE OF owner_id, created_at, deleted_at ON customers
    WHEN OLD.owner_id IS NOT NEW.owner_id OR OLD.created_at <> NEW.created_at OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
BEGIN
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'customer', g.w, COALESCE(OLD.owner_id, 0), OLD.created_at - OLD.created_at % g.w, '', -1, 0 FROM report_grains g WHERE OLD.deleted_at IS NULL
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'customer', g.w, COALESCE(NEW.owner_id, 0), NEW.created_at - NEW.created_at % g.w, '', 1, 0 FROM report_grains g WHERE NEW.deleted_at IS NULL
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
END;
CREATE TRIGGER report_counts_leads_add AFTER INSERT ON leads
BEGIN
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'lead', g.w, COALESCE(NEW.owner_id, 0), NEW.created_at - NEW.created_at % g.w, '', 1, 0 FROM report_grains g WHERE NEW.deleted_at IS NULL
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
END;
CREATE TRIGGER report_counts_leads_gone AFTER DELETE ON leads
BEGIN
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'lead', g.w, COALESCE(OLD.owner_id, 0), OLD.created_at - OLD.created_at % g.w, '', -1, 0 FROM report_grains g WHERE OLD.deleted_at IS NULL
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
END;
CREATE TRIGGER report_counts_leads_change AFTER UPDATE OF owner_id, created_at, deleted_at ON leads
    WHEN OLD.owner_id IS NOT NEW.owner_id OR OLD.created_at <> NEW.created_at OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
BEGIN
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'lead', g.w, COALESCE(OLD.owner_id, 0), OLD.created_at - OLD.created_at % g.w, '', -1, 0 FROM report_grains g WHERE OLD.deleted_at IS NULL
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'lead', g.w, COALESCE(NEW.owner_id, 0), NEW.created_at - NEW.created_at % g.w, '', 1, 0 FROM report_grains g WHERE NEW.deleted_at IS NULL
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
END;
CREATE TRIGGER report_counts_follow_ups_add AFTER INSERT ON follow_ups
BEGIN
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'follow_up', g.w, COALESCE(NEW.owner_id, 0), NEW.created_at - NEW.created_at % g.w, '', 1, 0 FROM report_grains g WHERE NEW.deleted_at IS NULL
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
END;
CREATE TRIGGER report_counts_follow_ups_gone AFTER DELETE ON follow_ups
BEGIN
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'follow_up', g.w, COALESCE(OLD.owner_id, 0), OLD.created_at - OLD.created_at % g.w, '', -1, 0 FROM report_grains g WHERE OLD.deleted_at IS NULL
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
END;
CREATE TRIGGER report_counts_follow_ups_change AFTER UPDATE OF owner_id, created_at, deleted_at ON follow_ups
    WHEN OLD.owner_id IS NOT NEW.owner_id OR OLD.created_at <> NEW.created_at OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
BEGIN
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'follow_up', g.w, COALESCE(OLD.owner_id, 0), OLD.created_at - OLD.created_at % g.w, '', -1, 0 FROM report_grains g WHERE OLD.deleted_at IS NULL
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'follow_up', g.w, COALESCE(NEW.owner_id, 0), NEW.created_at - NEW.created_at % g.w, '', 1, 0 FROM report_grains g WHERE NEW.deleted_at IS NULL
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
END;
CREATE TRIGGER report_counts_sign_ins_add AFTER INSERT ON sign_ins
BEGIN
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'sign_in', g.w, COALESCE(NEW.user_id, 0), NEW.at - NEW.at % g.w, '', 1, 0 FROM report_grains g WHERE TRUE
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
END;
CREATE TRIGGER report_counts_sign_ins_gone AFTER DELETE ON sign_ins
BEGIN
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'sign_in', g.w, COALESCE(OLD.user_id, 0), OLD.at - OLD.at % g.w, '', -1, 0 FROM report_grains g WHERE TRUE
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
END;
CREATE TRIGGER report_counts_sign_ins_change AFTER UPDATE OF user_id, at ON sign_ins
    WHEN OLD.user_id <> NEW.user_id OR OLD.at <> NEW.at
BEGIN
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'sign_in', g.w, COALESCE(OLD.user_id, 0), OLD.at - OLD.at % g.w, '', -1, 0 FROM report_grains g WHERE TRUE
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'sign_in', g.w, COALESCE(NEW.user_id, 0), NEW.at - NEW.at % g.w, '', 1, 0 FROM report_grains g WHERE TRUE
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
END;
CREATE TRIGGER report_counts_record_versions_add AFTER INSERT ON record_versions
BEGIN
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT CASE WHEN NEW.version = 1 THEN 'created' ELSE 'updated' END, g.w, COALESCE(NEW.actor_id, 0), NEW.at - NEW.at % g.w, '', 1, 0 FROM report_grains g WHERE TRUE
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
END;
CREATE TRIGGER report_counts_record_versions_gone AFTER DELETE ON record_versions
BEGIN
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT CASE WHEN OLD.version = 1 THEN 'created' ELSE 'updated' END, g.w, COALESCE(OLD.actor_id, 0), OLD.at - OLD.at % g.w, '', -1, 0 FROM report_grains g WHERE TRUE
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
END;
CREATE TRIGGER report_counts_record_versions_change AFTER UPDATE OF actor_id, at, version ON record_versions
    WHEN OLD.actor_id <> NEW.actor_id OR OLD.at <> NEW.at OR OLD.version <> NEW.version
BEGIN
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT CASE WHEN OLD.version = 1 THEN 'created' ELSE 'updated' END, g.w, COALESCE(OLD.actor_id, 0), OLD.at - OLD.at % g.w, '', -1, 0 FROM report_grains g WHERE TRUE
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT CASE WHEN NEW.version = 1 THEN 'created' ELSE 'updated' END, g.w, COALESCE(NEW.actor_id, 0), NEW.at - NEW.at % g.w, '', 1, 0 FROM report_grains g WHERE TRUE
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
END;
CREATE TRIGGER report_counts_opportunities_add AFTER INSERT ON opportunities
BEGIN
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT s.kind, g.w, NEW.owner_id, NEW.closed_at - NEW.closed_at % g.w, NEW.currency, 1, 1 * NEW.amount FROM stages s, report_grains g
    WHERE s.id = NEW.stage_id AND s.kind IN ('won', 'lost') AND NEW.closed_at IS NOT NULL AND NEW.deleted_at IS NULL
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'stay', g.w, NEW.owner_id, NEW.closed_at - NEW.closed_at % g.w, CAST(sc.to_stage_id AS TEXT), 1 * COUNT(*), 1 * SUM(sc.left_at - sc.changed_at)
    FROM opportunity_stage_changes sc, stages s, report_grains g
    WHERE sc.opportunity_id = NEW.id AND sc.left_at IS NOT NULL AND s.id = NEW.stage_id AND s.kind = 'won' AND NEW.closed_at IS NOT NULL AND NEW.deleted_at IS NULL
    GROUP BY g.w, sc.to_stage_id
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
END;
CREATE TRIGGER report_counts_opportunities_gone AFTER DELETE ON opportunities
BEGIN
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT s.kind, g.w, OLD.owner_id, OLD.closed_at - OLD.closed_at % g.w, OLD.currency, -1, -1 * OLD.amount FROM stages s, report_grains g
    WHERE s.id = OLD.stage_id AND s.kind IN ('won', 'lost') AND OLD.closed_at IS NOT NULL AND OLD.deleted_at IS NULL
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'stay', g.w, OLD.owner_id, OLD.closed_at - OLD.closed_at % g.w, CAST(sc.to_stage_id AS TEXT), -1 * COUNT(*), -1 * SUM(sc.left_at - sc.changed_at)
    FROM opportunity_stage_changes sc, stages s, report_grains g
    WHERE sc.opportunity_id = OLD.id AND sc.left_at IS NOT NULL AND s.id = OLD.stage_id AND s.kind = 'won' AND OLD.closed_at IS NOT NULL AND OLD.deleted_at IS NULL
    GROUP BY g.w, sc.to_stage_id
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
END;
CREATE TRIGGER report_counts_opportunities_change AFTER UPDATE OF owner_id, stage_id, closed_at, currency, amount, deleted_at ON opportunities
    WHEN OLD.owner_id <> NEW.owner_id OR OLD.stage_id <> NEW.stage_id OR OLD.closed_at IS NOT NEW.closed_at OR OLD.currency <> NEW.currency OR OLD.amount <> NEW.amount OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
BEGIN
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT s.kind, g.w, OLD.owner_id, OLD.closed_at - OLD.closed_at % g.w, OLD.currency, -1, -1 * OLD.amount FROM stages s, report_grains g
    WHERE s.id = OLD.stage_id AND s.kind IN ('won', 'lost') AND OLD.closed_at IS NOT NULL AND OLD.deleted_at IS NULL
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT s.kind, g.w, NEW.owner_id, NEW.closed_at - NEW.closed_at % g.w, NEW.currency, 1, 1 * NEW.amount FROM stages s, report_grains g
    WHERE s.id = NEW.stage_id AND s.kind IN ('won', 'lost') AND NEW.closed_at IS NOT NULL AND NEW.deleted_at IS NULL
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'stay', g.w, OLD.owner_id, OLD.closed_at - OLD.closed_at % g.w, CAST(sc.to_stage_id AS TEXT), -1 * COUNT(*), -1 * SUM(sc.left_at - sc.changed_at)
    FROM opportunity_stage_changes sc, stages s, report_grains g
    WHERE sc.opportunity_id = OLD.id AND sc.left_at IS NOT NULL AND s.id = OLD.stage_id AND s.kind = 'won' AND OLD.closed_at IS NOT NULL AND OLD.deleted_at IS NULL
    GROUP BY g.w, sc.to_stage_id
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'stay', g.w, NEW.owner_id, NEW.closed_at - NEW.closed_at % g.w, CAST(sc.to_stage_id AS TEXT), 1 * COUNT(*), 1 * SUM(sc.left_at - sc.changed_at)
    FROM opportunity_stage_changes sc, stages s, report_grains g
    WHERE sc.opportunity_id = NEW.id AND sc.left_at IS NOT NULL AND s.id = NEW.stage_id AND s.kind = 'won' AND NEW.closed_at IS NOT NULL AND NEW.deleted_at IS NULL
    GROUP BY g.w, sc.to_stage_id
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
END;

-- The funnel's reach follows the history and the stages' order.
CREATE TRIGGER opportunities_reach_add AFTER INSERT ON opportunity_stage_changes
BEGIN
    UPDATE opportunities SET reached_position = (SELECT st.position FROM stages st WHERE st.id = NEW.to_stage_id)
    WHERE id = NEW.opportunity_id AND EXISTS (SELECT 1 FROM stages st WHERE st.id = NEW.to_stage_id AND st.kind <> 'lost'
        AND st.position > COALESCE(opportunities.reached_position, -1));
END;
CREATE TRIGGER opportunities_reach_gone AFTER DELETE ON opportunity_stage_changes
BEGIN
    UPDATE opportunities SET reached_position = (SELECT r.reached_position FROM opportunity_reach_recount r WHERE r.id = opportunities.id)
    WHERE id = OLD.opportunity_id;
END;
CREATE TRIGGER opportunities_reach_change AFTER UPDATE OF opportunity_id, to_stage_id ON opportunity_stage_changes
BEGIN
    UPDATE opportunities SET reached_position = (SELECT r.reached_position FROM opportunity_reach_recount r WHERE r.id = opportunities.id)
    WHERE id IN (OLD.opportunity_id, NEW.opportunity_id);
END;
CREATE TRIGGER opportunities_reach_stages AFTER UPDATE OF position, kind ON stages
    WHEN OLD.position <> NEW.position OR OLD.kind <> NEW.kind
BEGIN
    UPDATE opportunities SET reached_position = (SELECT r.reached_position FROM opportunity_reach_recount r WHERE r.id = opportunities.id);
END;

-- Each stay in a stage ends where the next begins.
CREATE TRIGGER stage_stays_add AFTER INSERT ON opportunity_stage_changes
BEGIN
    UPDATE opportunity_stage_changes SET left_at = (SELECT s2.changed_at FROM opportunity_stage_changes s2 WHERE s2.opportunity_id = opportunity_stage_changes.opportunity_id
        AND (s2.changed_at > opportunity_stage_changes.changed_at OR (s2.changed_at = opportunity_stage_changes.changed_at AND s2.id > opportunity_stage_changes.id)) ORDER BY s2.changed_at, s2.id LIMIT 1)
    WHERE opportunity_id = NEW.opportunity_id;
END;
CREATE TRIGGER stage_stays_gone AFTER DELETE ON opportunity_stage_changes
BEGIN
    UPDATE opportunity_stage_changes SET left_at = (SELECT s2.changed_at FROM opportunity_stage_changes s2 WHERE s2.opportunity_id = opportunity_stage_changes.opportunity_id
        AND (s2.changed_at > opportunity_stage_changes.changed_at OR (s2.changed_at = opportunity_stage_changes.changed_at AND s2.id > opportunity_stage_changes.id)) ORDER BY s2.changed_at, s2.id LIMIT 1)
    WHERE opportunity_id = OLD.opportunity_id;
END;
CREATE TRIGGER stage_stays_change AFTER UPDATE OF opportunity_id, changed_at ON opportunity_stage_changes
BEGIN
    UPDATE opportunity_stage_changes SET left_at = (SELECT s2.changed_at FROM opportunity_stage_changes s2 WHERE s2.opportunity_id = opportunity_stage_changes.opportunity_id
        AND (s2.changed_at > opportunity_stage_changes.changed_at OR (s2.changed_at = opportunity_stage_changes.changed_at AND s2.id > opportunity_stage_changes.id)) ORDER BY s2.changed_at, s2.id LIMIT 1)
    WHERE opportunity_id IN (OLD.opportunity_id, NEW.opportunity_id);
END;

-- A won deal's stays follow each stay's end (left_at, set by the triggers above).
CREATE TRIGGER report_counts_stays_add AFTER INSERT ON opportunity_stage_changes
BEGIN
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'stay', g.w, o.owner_id, o.closed_at - o.closed_at % g.w, CAST(NEW.to_stage_id AS TEXT), 1, 1 * (NEW.left_at - NEW.changed_at)
    FROM opportunities o, stages s, report_grains g
    WHERE o.id = NEW.opportunity_id AND s.id = o.stage_id AND s.kind = 'won' AND o.closed_at IS NOT NULL AND o.deleted_at IS NULL AND NEW.left_at IS NOT NULL
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
END;
CREATE TRIGGER report_counts_stays_gone AFTER DELETE ON opportunity_stage_changes
BEGIN
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'stay', g.w, o.owner_id, o.closed_at - o.closed_at % g.w, CAST(OLD.to_stage_id AS TEXT), -1, -1 * (OLD.left_at - OLD.changed_at)
    FROM opportunities o, stages s, report_grains g
    WHERE o.id = OLD.opportunity_id AND s.id = o.stage_id AND s.kind = 'won' AND o.closed_at IS NOT NULL AND o.deleted_at IS NULL AND OLD.left_at IS NOT NULL
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
END;
CREATE TRIGGER report_counts_stays_change AFTER UPDATE OF opportunity_id, to_stage_id, changed_at, left_at ON opportunity_stage_changes
    WHEN OLD.opportunity_id <> NEW.opportunity_id OR OLD.to_stage_id <> NEW.to_stage_id OR OLD.changed_at <> NEW.changed_at OR OLD.left_at IS NOT NEW.left_at
BEGIN
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'stay', g.w, o.owner_id, o.closed_at - o.closed_at % g.w, CAST(OLD.to_stage_id AS TEXT), -1, -1 * (OLD.left_at - OLD.changed_at)
    FROM opportunities o, stages s, report_grains g
    WHERE o.id = OLD.opportunity_id AND s.id = o.stage_id AND s.kind = 'won' AND o.closed_at IS NOT NULL AND o.deleted_at IS NULL AND OLD.left_at IS NOT NULL
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
    INSERT INTO report_counts (metric, grain, owner_id, at, detail, n, amount)
    SELECT 'stay', g.w, o.owner_id, o.closed_at - o.closed_at % g.w, CAST(NEW.to_stage_id AS TEXT), 1, 1 * (NEW.left_at - NEW.changed_at)
    FROM opportunities o, stages s, report_grains g
    WHERE o.id = NEW.opportunity_id AND s.id = o.stage_id AND s.kind = 'won' AND o.closed_at IS NOT NULL AND o.deleted_at IS NULL AND NEW.left_at IS NOT NULL
    ON CONFLICT (metric, grain, owner_id, at, detail) DO UPDATE SET n = n + excluded.n, amount = amount + excluded.amount;
END;
