-- Audience-bound tokens (RFC 8707, RFC 9068). An API registers as a client with the URI
-- applications name in `resource=`; a code and the session it opens remember the API the
-- application asked for, and the session's tokens carry it as `aud`.

ALTER TABLE oauth_clients ADD COLUMN resource TEXT;
CREATE UNIQUE INDEX oauth_clients_by_resource ON oauth_clients (resource);
ALTER TABLE oauth_codes ADD COLUMN resource TEXT;
ALTER TABLE sessions ADD COLUMN resource TEXT;
