-- Nothing to change on SQLite: its INTEGER is 64 bits already. The PostgreSQL migration of
-- the same number widens sessions.confirmed_at to BIGINT; this keeps the numbering alike.
SELECT 1;
