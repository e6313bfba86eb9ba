-- Accounts, sessions and the revocation log (SQLite).
-- Ids are UUID text; times are Unix seconds.

CREATE TABLE users (
    id               TEXT PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL,
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL UNIQUE,
    phone            TEXT,
    password_hash    TEXT NOT NULL,
    is_admin         INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL
);

CREATE TABLE sessions (
    id                 TEXT PRIMARY KEY NOT NULL,
    user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at         INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    revoked_at         INTEGER,
    current_jti        TEXT NOT NULL,
    current_issued_at  INTEGER NOT NULL,
    current_expires_at INTEGER NOT NULL,
    previous_jti       TEXT,
    rotated_at         INTEGER
);
CREATE INDEX sessions_by_user ON sessions (user_id) WHERE revoked_at IS NULL;

-- Every revocation, so each instance can rebuild and catch up its in-memory view.
CREATE TABLE revocations (
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('session', 'token')),
    subject_id   TEXT NOT NULL,
    until        INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (subject_kind, subject_id)
);
CREATE INDEX revocations_by_created_at ON revocations (created_at);
