-- Account security (SQLite): verified e-mail, where each session came from, the audit log,
-- and webhook deliveries in the outbox.

-- When the current address was verified; NULL until then, and again after a change.
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;

-- The client a session was opened from, for the sessions list and new-device notices.
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN ip TEXT;
CREATE INDEX sessions_by_user_and_created_at ON sessions (user_id, created_at);

-- Links that verify an address. Only a keyed SHA-256 digest of each hash is kept; a link
-- verifies the address it was sent to, and only while that is still the account's address.
CREATE TABLE email_verifications (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    hash_digest TEXT NOT NULL UNIQUE,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE INDEX email_verifications_by_user ON email_verifications (user_id);

-- The audit log: one row per security event, written in the transaction of the change it
-- records. Ids are UUIDv7, so id order is time order. `data` is a JSON object of safe
-- details; no password, code, hash, token or seed is ever in a row.
CREATE TABLE security_events (
    id         TEXT PRIMARY KEY NOT NULL,
    type       TEXT NOT NULL,
    user_id    TEXT,
    at         INTEGER NOT NULL,
    ip         TEXT,
    user_agent TEXT,
    data       TEXT NOT NULL
);
CREATE INDEX security_events_by_user ON security_events (user_id, id);
CREATE INDEX security_events_by_at ON security_events (at);

-- Webhook deliveries join e-mail and SMS in the outbox. SQLite cannot change a CHECK, so
-- the table is rebuilt with the wider one.
CREATE TABLE notifications_new (
    id                 TEXT PRIMARY KEY NOT NULL,
    channel            TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'whatsapp', 'webhook')),
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
INSERT INTO notifications_new SELECT * FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_by_recipient ON notifications (recipient);
