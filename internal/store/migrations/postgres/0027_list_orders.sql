-- Every order a list offers is read from an index under the scope, so a
-- page of 20 costs about what the default order's page costs, at any depth
-- (docs/benchmarks.md, "Orders"). A rep's own list, the pool (owner_id IS
-- NULL is an equality for the index) and "mine" under a wider scope read
-- (owner_id, sort key, id); the whole organisation and a large department
-- scan (sort key, id) and check the owner on the way. A next follow-up or
-- due time that is not set sorts last through the same COALESCE as the
-- queries, since the two databases disagree on where NULL sorts.
CREATE INDEX customers_live_owner_created ON customers(owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_live_owner_name ON customers(owner_id, (name COLLATE "C"), id) WHERE deleted_at IS NULL;
CREATE INDEX customers_live_owner_next ON customers(owner_id, COALESCE(next_follow_up_at, 9007199254740991), id) WHERE deleted_at IS NULL;
-- The pool's own indexes: PostgreSQL does not take "owner_id IS NULL" for
-- an equality that fixes the first column of an owner's index, so that
-- index cannot give the pool its order (SQLite's can).
CREATE INDEX customers_pool_updated ON customers(updated_at, id) WHERE deleted_at IS NULL AND owner_id IS NULL;
CREATE INDEX customers_pool_created ON customers(created_at, id) WHERE deleted_at IS NULL AND owner_id IS NULL;
CREATE INDEX customers_pool_name ON customers((name COLLATE "C"), id) WHERE deleted_at IS NULL AND owner_id IS NULL;
CREATE INDEX customers_pool_next ON customers(COALESCE(next_follow_up_at, 9007199254740991), id) WHERE deleted_at IS NULL AND owner_id IS NULL;

CREATE INDEX contacts_live_created ON contacts(created_at, id) WHERE deleted_at IS NULL;

CREATE INDEX leads_live_created ON leads(created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_live_owner_created ON leads(owner_id, created_at, id) WHERE deleted_at IS NULL;

CREATE INDEX opportunities_live_created ON opportunities(created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX opportunities_live_amount ON opportunities(amount, id) WHERE deleted_at IS NULL;
-- The board: one stage's opportunities, most recently updated first.
CREATE INDEX opportunities_live_stage ON opportunities(stage_id, updated_at, id) WHERE deleted_at IS NULL;

-- A user's tasks, open first, soonest due first, then newest: the Today
-- page's list and the overdue ones (a range on the due time).
DROP INDEX tasks_owner_due;
CREATE INDEX tasks_live_owner_due ON tasks(owner_id, done, COALESCE(due_at, 9007199254740991), id DESC) WHERE deleted_at IS NULL;
