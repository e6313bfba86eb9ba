-- A rotation revokes the token it replaces, in the same statement (PostgreSQL).
-- The session store rotates with one conditional UPDATE; this trigger logs the old token's
-- revocation inside that statement's transaction, so the rotation and its revocation commit
-- together in a single round trip instead of BEGIN, UPDATE, INSERT and COMMIT.

CREATE FUNCTION log_rotated_away_token() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO revocations (subject_kind, subject_id, until, created_at)
    VALUES ('token', OLD.current_jti, OLD.current_expires_at, NEW.rotated_at)
    ON CONFLICT (subject_kind, subject_id) DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER sessions_rotation_revokes_the_old_token
AFTER UPDATE OF current_jti ON sessions
FOR EACH ROW
WHEN (OLD.current_jti IS DISTINCT FROM NEW.current_jti)
EXECUTE FUNCTION log_rotated_away_token();
