-- The audit viewer filters by action (issue 5).
CREATE INDEX audit_events_action ON audit_events(action, id);
