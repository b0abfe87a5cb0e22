-- Issue 12: the administrator role requires a second factor by default. New
-- organisations get it from the default roles; an existing database gets it
-- here, once, for the default administrator role. An organisation may turn
-- it off again on the role page (a step-up, audited role change).
UPDATE roles SET require_mfa = TRUE, updated_at = (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT
WHERE role_key = 'admin' AND NOT require_mfa;
