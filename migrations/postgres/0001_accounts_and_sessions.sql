-- Accounts, sessions and the revocation log (PostgreSQL).
-- Ids are UUID text; times are Unix seconds.

CREATE TABLE users (
    id               TEXT PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL,
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL UNIQUE,
    phone            TEXT,
    password_hash    TEXT NOT NULL,
    is_admin         BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL
);

CREATE TABLE sessions (
    id                 TEXT PRIMARY KEY NOT NULL,
    user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at         BIGINT NOT NULL,
    expires_at         BIGINT NOT NULL,
    revoked_at         BIGINT,
    current_jti        TEXT NOT NULL,
    current_issued_at  BIGINT NOT NULL,
    current_expires_at BIGINT NOT NULL,
    previous_jti       TEXT,
    rotated_at         BIGINT
);
CREATE INDEX sessions_by_user ON sessions (user_id) WHERE revoked_at IS NULL;

-- Every revocation, so each instance can rebuild and catch up its in-memory view.
CREATE TABLE revocations (
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('session', 'token')),
    subject_id   TEXT NOT NULL,
    until        BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (subject_kind, subject_id)
);
CREATE INDEX revocations_by_created_at ON revocations (created_at);
