-- Issue 12 §5: what a salesperson writes in a follow-up is sealed, like the
-- fields of the person it is about. data_key names the key its content is
-- sealed under: the contact's or lead's (erasing the person destroys it),
-- else its customer's. A customer's key is made when its first follow-up
-- needs one; purging the customer destroys it with its last follow-up.
-- The start-up upgrade seals the follow-ups written before this release.
ALTER TABLE follow_ups ADD COLUMN data_key TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN data_key TEXT NOT NULL DEFAULT '';
CREATE INDEX follow_ups_data_key ON follow_ups(data_key) WHERE data_key <> '';
CREATE INDEX customers_data_key ON customers(data_key) WHERE data_key <> '';
