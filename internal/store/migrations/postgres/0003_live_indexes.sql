-- Partial indexes over live records (deleted_at IS NULL), the only ones
-- lists and counts read: an owner's list and its count are answered from
-- the index alone, and large scopes page in sort order without sorting.
DROP INDEX customers_owner_updated;
DROP INDEX customers_updated;
CREATE INDEX customers_live_owner ON customers(owner_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_live_updated ON customers(updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_live_created ON customers(created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_live_name ON customers((name COLLATE "C"), id) WHERE deleted_at IS NULL;
CREATE INDEX customers_live_next ON customers(COALESCE(next_follow_up_at, 9007199254740991), id) WHERE deleted_at IS NULL;
CREATE INDEX customers_deleted ON customers(owner_id, deleted_at) WHERE deleted_at IS NOT NULL;

DROP INDEX contacts_owner_updated;
DROP INDEX contacts_updated;
CREATE INDEX contacts_live_owner ON contacts(owner_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_live_updated ON contacts(updated_at, id) WHERE deleted_at IS NULL;

DROP INDEX leads_owner_updated;
DROP INDEX leads_updated;
CREATE INDEX leads_live_owner ON leads(owner_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_live_updated ON leads(updated_at, id) WHERE deleted_at IS NULL;

DROP INDEX opportunities_owner_updated;
DROP INDEX opportunities_updated;
CREATE INDEX opportunities_live_owner ON opportunities(owner_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX opportunities_live_updated ON opportunities(updated_at, id) WHERE deleted_at IS NULL;
