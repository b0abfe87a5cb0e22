-- Least privilege: the audit-reading flag of a role (field rules live in the
-- grants JSON and need no column).
ALTER TABLE roles ADD COLUMN audit INTEGER NOT NULL DEFAULT 0;
UPDATE roles SET audit = 1 WHERE admin = 1;
