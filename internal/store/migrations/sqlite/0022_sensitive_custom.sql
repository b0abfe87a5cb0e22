-- Issue 4: an administrator marks a custom field sensitive when it is
-- created; its values are then stored only sealed.
ALTER TABLE custom_fields ADD COLUMN sensitive INTEGER NOT NULL DEFAULT 0;
