-- A customer's contacts, opportunities and follow-ups go to the recycle bin
-- with it; this mark tells them from those deleted on their own (a time
-- stamp alone cannot: both can fall in the same millisecond).
ALTER TABLE contacts ADD COLUMN deleted_with_customer INTEGER NOT NULL DEFAULT 0;
ALTER TABLE opportunities ADD COLUMN deleted_with_customer INTEGER NOT NULL DEFAULT 0;
ALTER TABLE follow_ups ADD COLUMN deleted_with_customer INTEGER NOT NULL DEFAULT 0;
