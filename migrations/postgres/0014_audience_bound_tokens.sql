-- Audience-bound tokens (RFC 8707, RFC 9068), and recent authentication. An API registers as a client with the URI
-- applications name in `resource=`; a code and the session it opens remember the API the
-- application asked for, and the session's tokens carry it as `aud`.

ALTER TABLE oauth_clients ADD COLUMN resource TEXT;
CREATE UNIQUE INDEX oauth_clients_by_resource ON oauth_clients (resource);
ALTER TABLE oauth_codes ADD COLUMN resource TEXT;
ALTER TABLE sessions ADD COLUMN resource TEXT;
-- When the session last confirmed its password (POST /login/confirm): with its sign-in,
-- what sensitive changes (a factor removed, the e-mail changed) require to be recent.
ALTER TABLE sessions ADD COLUMN confirmed_at INTEGER;
