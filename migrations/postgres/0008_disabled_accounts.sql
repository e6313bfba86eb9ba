-- Accounts an operator disabled (postgres): they cannot sign in until enabled again.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
