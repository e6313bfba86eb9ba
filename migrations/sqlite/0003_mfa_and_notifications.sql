-- MFA factors, recovery codes, and the durable queue of outgoing messages (SQLite).

CREATE TABLE mfa_factors (
    id                TEXT PRIMARY KEY NOT NULL,
    user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    strategy          TEXT NOT NULL CHECK (strategy IN ('EMAIL', 'PHONE', 'GOOGLE_AUTHENTICATOR')),
    channel           TEXT CHECK (channel IN ('sms', 'whatsapp')),
    enabled           INTEGER NOT NULL DEFAULT 0,
    -- TOTP seed, AES-256-GCM under the data key.
    secret_ciphertext TEXT,
    -- Last TOTP time step accepted, so no step is accepted twice.
    last_used_step    INTEGER,
    -- EMAIL/PHONE enrolment: digest of the code sent, its expiry (Unix seconds), and the
    -- validation attempts so far.
    code_digest       TEXT,
    code_expires_at   INTEGER,
    attempts          INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    UNIQUE (user_id, strategy)
);

CREATE TABLE recovery_codes (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_digest TEXT NOT NULL,
    used_at     INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE INDEX recovery_codes_by_user ON recovery_codes (user_id);

-- Every message is recorded here before the API answers; the notification actor delivers
-- it, retrying with backoff, and keeps permanent failures. The payload (which may carry a
-- code) is encrypted and erased once delivered. Times here are Unix milliseconds.
CREATE TABLE notifications (
    id                 TEXT PRIMARY KEY NOT NULL,
    channel            TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'whatsapp')),
    recipient          TEXT NOT NULL,
    payload_ciphertext TEXT,
    status             TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at    INTEGER NOT NULL,
    lease_until        INTEGER,
    last_error         TEXT,
    created_at         INTEGER NOT NULL,
    finished_at        INTEGER
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
