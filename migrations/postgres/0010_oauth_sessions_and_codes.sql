-- OpenID Connect (postgres): a session knows how its user signed in (for an ID token's
-- `amr`) and, when a client holds it, the client and its granted scopes (its tokens carry
-- them as `aud` and `scope`). Authorization codes are kept by keyed digest, used once.

ALTER TABLE sessions ADD COLUMN method TEXT;
ALTER TABLE sessions ADD COLUMN client_id TEXT;
ALTER TABLE sessions ADD COLUMN scope TEXT;

CREATE TABLE oauth_codes (
    code_digest    TEXT PRIMARY KEY NOT NULL,
    client_id      TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    scope          TEXT NOT NULL,
    nonce          TEXT,
    code_challenge TEXT,
    auth_time      BIGINT NOT NULL,
    method         TEXT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT,
    -- The session the code's redemption opened: a second redemption revokes it.
    issued_session TEXT
);
CREATE INDEX oauth_codes_by_expiry ON oauth_codes (expires_at);
