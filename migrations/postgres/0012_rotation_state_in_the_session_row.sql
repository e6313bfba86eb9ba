-- A rotation's record is the session row alone (PostgreSQL).
-- Token ids are now ordered within a session (UUIDv7, each successor later than the token it
-- replaces), so the session's current token says which of its tokens are rotated away: the
-- revocation log no longer gets a row per rotation, and instances catch up on rotations
-- from `sessions.rotated_at`. Rows logged per rotation before this migration stay until
-- they lapse (at most one token lifetime) and are pruned with the rest.

DROP TRIGGER IF EXISTS sessions_rotation_revokes_the_old_token ON sessions;
DROP FUNCTION IF EXISTS log_rotated_away_token();

DELETE FROM revocations WHERE until <= CAST(EXTRACT(EPOCH FROM now()) AS BIGINT);

CREATE INDEX sessions_by_rotated_at ON sessions (rotated_at) WHERE rotated_at IS NOT NULL;
