-- Issue 17 §3, stage exit criteria: per pipeline stage, what must hold
-- before an opportunity moves past it (an open stage) or into it (a won
-- stage): opportunity fields that must be filled (JSON array of field
-- names, "custom.<key>" for custom fields), completed tasks linked to the
-- opportunity (JSON array of {"title": prefix, "count": n}) and a signed
-- contract. A stage without a row has no criteria. The completed tasks
-- are counted through tasks_opportunity (0016), the contract through
-- contracts_opportunity (0032).
CREATE TABLE stage_criteria (
    stage_id   INTEGER PRIMARY KEY REFERENCES stages(id),
    fields     TEXT    NOT NULL DEFAULT '[]',
    tasks      TEXT    NOT NULL DEFAULT '[]',
    contract   INTEGER NOT NULL DEFAULT 0,
    updated_by INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
