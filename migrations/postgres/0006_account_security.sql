-- Account security (PostgreSQL): verified e-mail, where each session came from, the audit
-- log, and webhook deliveries in the outbox.

-- When the current address was verified; NULL until then, and again after a change.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;

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
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX email_verifications_by_user ON email_verifications (user_id);

-- The audit log: one row per security event, written in the transaction of the change it
-- records. Ids are UUIDv7, so id order is time order. `data` is a JSON object of safe
-- details; no password, code, hash, token or seed is ever in a row.
CREATE TABLE security_events (
    id         TEXT PRIMARY KEY NOT NULL,
    type       TEXT NOT NULL,
    user_id    TEXT,
    at         BIGINT NOT NULL,
    ip         TEXT,
    user_agent TEXT,
    data       TEXT NOT NULL
);
CREATE INDEX security_events_by_user ON security_events (user_id, id);
CREATE INDEX security_events_by_at ON security_events (at);

-- Webhook deliveries join e-mail and SMS in the outbox.
ALTER TABLE notifications DROP CONSTRAINT notifications_channel_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_channel_check
    CHECK (channel IN ('email', 'sms', 'whatsapp', 'webhook'));
CREATE INDEX notifications_by_recipient ON notifications (recipient);
