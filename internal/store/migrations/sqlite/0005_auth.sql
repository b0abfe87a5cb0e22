-- Issue 3, authentication: a second factor (TOTP with recovery codes) per
-- user, a per-role MFA requirement, step-up times on sessions, and scoped,
-- IP-restricted API tokens.

-- A session opened by a password whose user has a second factor is pending
-- until the factor is verified; second_factor_at is when it last was (for
-- step-up); last_ip is where the session was last seen from.
ALTER TABLE sessions ADD COLUMN mfa_pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN second_factor_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN last_ip TEXT NOT NULL DEFAULT '';

-- Scopes are space-separated ("customer:read task:write admin"); tokens
-- issued before scopes existed keep exactly what they could do.
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN allowed_ips TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN last_used_ip TEXT NOT NULL DEFAULT '';
UPDATE api_tokens SET scopes = 'customer:write contact:write followup:write lead:write opportunity:write task:write admin';

ALTER TABLE roles ADD COLUMN require_mfa INTEGER NOT NULL DEFAULT 0;

-- One TOTP credential per user. The secret has its own column so the key
-- store (issue 4) can encrypt it in place; it is never logged or audited.
-- confirmed_at = 0 means enrolment was started but not confirmed with a
-- code. last_step is the last accepted time step: a code is accepted only
-- for a later step, so it cannot be replayed within its window.
CREATE TABLE totp_credentials (
    user_id      INTEGER PRIMARY KEY REFERENCES users(id),
    secret       TEXT    NOT NULL,
    confirmed_at INTEGER NOT NULL DEFAULT 0,
    last_step    INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
);

-- Single-use recovery codes, stored as SHA-256 of 80-bit random codes.
CREATE TABLE recovery_codes (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    code_hash  TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    used_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);
