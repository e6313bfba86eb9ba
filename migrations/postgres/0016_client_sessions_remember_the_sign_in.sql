-- A client's session remembers when the person signed in at authd (the code's auth_time),
-- so an ID token issued at a refresh carries the same auth_time as the first one (OIDC
-- Core §12.2). NULL for a session of authd's own: its sign-in is its created_at.
ALTER TABLE sessions ADD COLUMN signed_in_at BIGINT;
