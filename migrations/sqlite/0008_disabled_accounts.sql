-- Accounts an operator disabled (sqlite): they cannot sign in until enabled again.
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
