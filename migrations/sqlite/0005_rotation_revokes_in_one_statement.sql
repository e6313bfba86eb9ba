-- A rotation revokes the token it replaces, in the same statement (SQLite).
-- The session store rotates with one conditional UPDATE; this trigger logs the old token's
-- revocation inside that statement's transaction, so the rotation and its revocation commit
-- together in a single round trip instead of BEGIN, UPDATE, INSERT and COMMIT.

CREATE TRIGGER sessions_rotation_revokes_the_old_token
AFTER UPDATE OF current_jti ON sessions
WHEN OLD.current_jti <> NEW.current_jti
BEGIN
    INSERT OR IGNORE INTO revocations (subject_kind, subject_id, until, created_at)
    VALUES ('token', OLD.current_jti, OLD.current_expires_at, NEW.rotated_at);
END;
