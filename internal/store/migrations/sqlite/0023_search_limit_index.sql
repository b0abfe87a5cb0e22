-- The hourly limit on searches by a phone, e-mail or credit code counts an
-- actor's events of those actions in the last hour: this index makes that
-- count proportional to the searches, not to everything else they did.
CREATE INDEX audit_events_actor_action ON audit_events(actor_id, action, at);
