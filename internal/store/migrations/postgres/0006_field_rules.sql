-- Least privilege: the audit-reading flag of a role (field rules live in the
-- grants JSON and need no column).
ALTER TABLE roles ADD COLUMN audit BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE roles SET audit = TRUE WHERE admin;
