-- Issue 12: the administrator role requires a second factor by default. New
-- organisations get it from the default roles; an existing database gets it
-- here, once, for the default administrator role. An organisation may turn
-- it off again on the role page (a step-up, audited role change).
UPDATE roles SET require_mfa = 1, updated_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000
WHERE role_key = 'admin' AND require_mfa = 0;
