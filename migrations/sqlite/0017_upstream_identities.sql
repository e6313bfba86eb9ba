-- Identities at upstream providers ("Continue with ..."), linked to accounts (sqlite). One
-- identity (provider, subject) belongs to one account; an account may have several. The
-- e-mail is what the provider gave when the identity was linked; erased with the account.

CREATE TABLE upstream_identities (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider     TEXT NOT NULL,
    subject      TEXT NOT NULL,
    email        TEXT,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    UNIQUE (provider, subject)
);
CREATE INDEX upstream_identities_by_user ON upstream_identities (user_id);
