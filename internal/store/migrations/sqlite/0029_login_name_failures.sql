-- Failed sign-ins under a user name that has no account, counted like
-- users.failed_logins / users.locked_until, so a name that does not exist
-- locks exactly like one that does: the lockout answer must not tell an
-- attacker which names are real. Only names without an account get a row.
CREATE TABLE login_name_failures (
    username      TEXT    PRIMARY KEY,
    failed_logins INTEGER NOT NULL,
    locked_until  INTEGER  NOT NULL
);
