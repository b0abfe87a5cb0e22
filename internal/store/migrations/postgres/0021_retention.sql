-- Issue 4, retention: contacts and leads a policy archived (read-only after
-- months without activity) say when. A person's follow-ups count as their
-- activity; they are found through follow_ups_contact and follow_ups_lead
-- (migration 16).
ALTER TABLE contacts ADD COLUMN archived_at BIGINT;
ALTER TABLE leads ADD COLUMN archived_at BIGINT;
