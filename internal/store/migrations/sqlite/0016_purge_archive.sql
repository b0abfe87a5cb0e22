-- Recycle-bin purge and audit archive segments (issue 5).

-- The purge finds records deleted before its cutoff per table, and unlinks
-- or removes the rows that reference a purged record; these indexes keep
-- both to index lookups on large tables.
CREATE INDEX customers_purge ON customers(deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX contacts_purge ON contacts(deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX leads_purge ON leads(deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX opportunities_purge ON opportunities(deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX follow_ups_purge ON follow_ups(deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX tasks_purge ON tasks(deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX follow_ups_contact ON follow_ups(contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX follow_ups_opportunity ON follow_ups(opportunity_id) WHERE opportunity_id IS NOT NULL;
CREATE INDEX follow_ups_lead ON follow_ups(lead_id) WHERE lead_id IS NOT NULL;
CREATE INDEX tasks_opportunity ON tasks(opportunity_id) WHERE opportunity_id IS NOT NULL;
CREATE INDEX leads_customer ON leads(customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX leads_contact ON leads(contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX leads_opportunity ON leads(opportunity_id) WHERE opportunity_id IS NOT NULL;
CREATE INDEX approval_requests_record ON approval_requests(object, record_id);

-- Data keys (in the key store) of people the purge removed, to destroy once
-- the purge has committed; a destruction that fails is retried by the next
-- run, so no purged person's key outlives them.
CREATE TABLE purge_key_erasures (
    key_id TEXT PRIMARY KEY
);

-- One row per archive segment: sealed audit events moved out of the
-- database into a signed, compressed file in the audit directory. The file
-- and its signed note are the record; this row names them, so verification
-- can say which file is missing, and gives the sealer the chain head when
-- every sealed event has been archived.
CREATE TABLE audit_segments (
    number     INTEGER PRIMARY KEY,
    first_seq  INTEGER NOT NULL UNIQUE,
    last_seq   INTEGER NOT NULL UNIQUE,
    events     INTEGER NOT NULL,
    first_at   INTEGER NOT NULL,
    last_at    INTEGER NOT NULL,
    prev       TEXT    NOT NULL,
    head       TEXT    NOT NULL,
    sha256     TEXT    NOT NULL,
    file       TEXT    NOT NULL,
    note       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- Leases of background jobs that span more than one transaction (the audit
-- archive writes files between its transactions): with several instances,
-- the one holding an unexpired lease does the work.
CREATE TABLE job_leases (
    name       TEXT    PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
