-- Data quality (issue 14 §4). The weights an administrator gives each
-- field in a record's completeness score (an object without rows here uses
-- the registry's defaults), and the open fix-up tasks: at most one per
-- record and reason, which the primary key guarantees, so two instances
-- running the job cannot both create it.
CREATE TABLE quality_weights (
    object TEXT    NOT NULL,
    field  TEXT    NOT NULL,
    weight INTEGER NOT NULL CHECK (weight >= 0),
    PRIMARY KEY (object, field)
);

CREATE TABLE quality_fixups (
    object     TEXT    NOT NULL,
    record_id  BIGINT  NOT NULL,
    reason     TEXT    NOT NULL,
    task_id    BIGINT  REFERENCES tasks(id),
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (object, record_id, reason)
);
