-- OpenID Connect clients (sqlite). A confidential client's secret is kept as its keyed
-- digest only; URI, scope and grant lists are JSON arrays of strings.

CREATE TABLE oauth_clients (
    id                        TEXT PRIMARY KEY NOT NULL,
    name                      TEXT NOT NULL,
    secret_digest             TEXT,
    redirect_uris             TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    public                    INTEGER NOT NULL DEFAULT 0,
    first_party               INTEGER NOT NULL DEFAULT 0,
    scopes                    TEXT NOT NULL,
    grants                    TEXT NOT NULL,
    -- How its ID tokens are signed: RS256 or EdDSA.
    id_token_alg              TEXT NOT NULL DEFAULT 'RS256',
    created_at                INTEGER NOT NULL
);
