-- Keys belong to one database (issue 12 §2). The database records the
-- identity of its master key (a fingerprint per version), key store and
-- audit key — never a key — and its own id, which the key store records in
-- turn. Start-up refuses missing or foreign keys instead of making new ones
-- for a database that already holds data.
CREATE TABLE key_identities (
    name        TEXT   PRIMARY KEY,
    value       TEXT   NOT NULL,
    recorded_at BIGINT NOT NULL
);
