-- A name search checks each candidate customer (every record holding the
-- searched bigram, ~450 for a common brand) against the reader's scope and
-- takes its sort key. Read from the table, that is a page of ~16 wide rows
-- per candidate; this narrow index holds all the check needs, ~190 entries
-- a page (docs/benchmarks.md). SQLite is told to use it
-- (CustomerQuery.searchProbe); PostgreSQL may choose it for index-only scans.
CREATE INDEX customers_search_probe ON customers(id, owner_id, deleted_at, updated_at);
