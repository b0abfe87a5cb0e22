-- Issue 4: contacts and leads name the data key (in the separate key store)
-- their personal fields are sealed under. Empty only on rows written before
-- encryption, which the start-up upgrade seals.
ALTER TABLE contacts ADD COLUMN person_key TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN person_key TEXT NOT NULL DEFAULT '';
CREATE INDEX contacts_person_key ON contacts(person_key);
CREATE INDEX leads_person_key ON leads(person_key);
