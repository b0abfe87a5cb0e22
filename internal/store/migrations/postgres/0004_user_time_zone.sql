-- A user's time zone (an IANA name such as Asia/Shanghai) for the times the
-- web pages show and read; empty follows the organisation's default.
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
