-- sessions.confirmed_at holds Unix seconds like every other time column: 64 bits, not 32
-- (migration 0014 declared it INTEGER, which ends in 2038).
ALTER TABLE sessions ALTER COLUMN confirmed_at TYPE BIGINT;
