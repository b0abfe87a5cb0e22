-- Issue 16, drill-downs: a forecast figure drills down to the open deals
-- expected to close in a month (expected_close_from/_to on the opportunity
-- list). No index held that date, so the list and its count read every
-- live deal of the scope to find a month's; this one reads the month.
CREATE INDEX opportunities_live_expected_close ON opportunities(expected_close_date, id) WHERE deleted_at IS NULL;
