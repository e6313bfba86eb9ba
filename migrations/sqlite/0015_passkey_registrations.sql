-- A passkey registration waiting for the authenticator's answer: listed by GET /mfa as a
-- PASSKEY factor that is not enabled yet, as the other strategies' pending factors are.
-- The WebAuthn ceremony's state stays in the cache; finishing the registration deletes
-- this row in the transaction that stores the passkey, and removing it (DELETE /mfa/{id})
-- withdraws the registration.
CREATE TABLE passkey_registrations (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX passkey_registrations_by_user ON passkey_registrations (user_id);
