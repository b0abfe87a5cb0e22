-- Issue 3, authentication: passkeys (WebAuthn) as a second factor beside
-- TOTP, and the server-side state of a WebAuthn ceremony.

-- The user handle a user's passkeys carry (WebAuthn's user.id): 32 random
-- bytes, the same for every passkey of the user, never the numeric user id.
CREATE TABLE webauthn_users (
    user_id    INTEGER PRIMARY KEY REFERENCES users(id),
    handle     BLOB    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

-- One row per registered passkey. rp_id is the relying party it was made
-- for (from the public URL): only passkeys of the current one are offered.
-- sign_count is the authenticator's signature counter: an assertion must
-- carry a larger one (unless both are 0, as synced passkeys report), and a
-- regression blocks the passkey (blocked_at) as a possible clone. flags is
-- the authenticator data flags byte kept for the backup checks. The public
-- key is not a secret; the private key never leaves the authenticator.
CREATE TABLE webauthn_credentials (
    id                 INTEGER PRIMARY KEY,
    user_id            INTEGER NOT NULL REFERENCES users(id),
    rp_id              TEXT    NOT NULL,
    credential_id      BLOB    NOT NULL,
    name               TEXT    NOT NULL,
    public_key         BLOB    NOT NULL,
    sign_count         INTEGER NOT NULL DEFAULT 0,
    transports         TEXT    NOT NULL DEFAULT '',
    aaguid             BLOB    NOT NULL,
    flags              INTEGER NOT NULL DEFAULT 0,
    attestation_format TEXT    NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL,
    last_used_at       INTEGER NOT NULL DEFAULT 0,
    blocked_at         INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX webauthn_credentials_id ON webauthn_credentials(rp_id, credential_id);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials(user_id);

-- A ceremony in progress: the challenge and options (the library's session
-- data as JSON) between "begin" and "finish", bound to the browser session
-- that began it, one per purpose (register, login, step_up), deleted when
-- used or replaced, refused after expires_at, and gone with the session.
CREATE TABLE webauthn_challenges (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL,
    data       TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, purpose)
);
CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges(expires_at);
