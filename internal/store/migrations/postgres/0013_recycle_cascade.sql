-- A customer's contacts, opportunities and follow-ups go to the recycle bin
-- with it; this mark tells them from those deleted on their own (a time
-- stamp alone cannot: both can fall in the same millisecond).
ALTER TABLE contacts ADD COLUMN deleted_with_customer BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE opportunities ADD COLUMN deleted_with_customer BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE follow_ups ADD COLUMN deleted_with_customer BOOLEAN NOT NULL DEFAULT FALSE;
