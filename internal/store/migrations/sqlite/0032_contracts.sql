-- Contracts (合同, issue 13 §5): signed agreements with a customer,
-- optionally for one of its opportunities. The number is unique per
-- organisation among live contracts; that is kept by the duplicate-check
-- keys under their advisory locks (a unique index cannot leave recycled
-- contracts out and still bring them back), not by a constraint.
CREATE TABLE contracts (
    id                    INTEGER PRIMARY KEY,
    owner_id              INTEGER NOT NULL REFERENCES users(id),
    customer_id           INTEGER NOT NULL REFERENCES customers(id),
    opportunity_id        INTEGER REFERENCES opportunities(id),
    number                TEXT    NOT NULL,
    name                  TEXT    NOT NULL,
    amount                INTEGER NOT NULL DEFAULT 0,
    currency              TEXT    NOT NULL DEFAULT 'CNY',
    signed_on             TEXT    NOT NULL DEFAULT '',
    starts_on             TEXT    NOT NULL DEFAULT '',
    ends_on               TEXT    NOT NULL DEFAULT '',
    status                TEXT    NOT NULL DEFAULT 'draft',
    notes                 TEXT    NOT NULL DEFAULT '',
    custom                TEXT    NOT NULL DEFAULT '{}',
    created_by            INTEGER NOT NULL,
    updated_by            INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    version               INTEGER NOT NULL DEFAULT 1,
    deleted_at            INTEGER,
    deleted_with_customer INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX contracts_customer ON contracts(customer_id);
CREATE INDEX contracts_opportunity ON contracts(opportunity_id) WHERE opportunity_id IS NOT NULL;
CREATE INDEX contracts_purge ON contracts(deleted_at) WHERE deleted_at IS NOT NULL;
-- The list's orders under the scope (as 0027): updated, created, amount.
CREATE INDEX contracts_live_owner ON contracts(owner_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX contracts_live_updated ON contracts(updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX contracts_live_created ON contracts(created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX contracts_live_amount ON contracts(amount, id) WHERE deleted_at IS NULL;

-- Roles made before contracts existed get on them what they have on
-- opportunities (the same actions and scope, the amount's field rule),
-- so nobody gains or loses reach over deal values by the upgrade.
UPDATE roles SET grants = json_set(grants, '$.contract',
    CASE WHEN json_extract(grants, '$.opportunity.fields.amount') IS NOT NULL
        THEN json_set(json_remove(json_extract(grants, '$.opportunity'), '$.fields'), '$.fields',
            json_object('amount', json_extract(grants, '$.opportunity.fields.amount')))
        ELSE json_remove(json_extract(grants, '$.opportunity'), '$.fields')
    END)
WHERE json_extract(grants, '$.opportunity') IS NOT NULL AND json_extract(grants, '$.contract') IS NULL;
