-- Exposure reports and incidents (issue 5).
-- Events name the API token a token actor used, so a report can answer
-- "what did this token reach"; 0 for sessions, jobs and older events.
ALTER TABLE audit_events ADD COLUMN token_id BIGINT NOT NULL DEFAULT 0;
-- A report reads a time window in (at, id) order, narrowed by a user or
-- a token.
CREATE INDEX audit_events_at ON audit_events(at, id);
CREATE INDEX audit_events_actor_at ON audit_events(actor_id, at, id);
CREATE INDEX audit_events_token ON audit_events(token_id, at, id) WHERE token_id <> 0;
