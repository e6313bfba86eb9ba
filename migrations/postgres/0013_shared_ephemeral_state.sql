-- Short-lived state that must stay exact across instances and outlive a Redis outage: MFA
-- login challenges and their attempt counts, passkey ceremonies, e-mail counters.
-- `expires_at` is in Unix milliseconds; lapsed rows count as absent and are pruned.

CREATE TABLE ephemeral_entries (
    key TEXT PRIMARY KEY,
    value TEXT,
    counter BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL
);

CREATE INDEX ephemeral_entries_by_expiry ON ephemeral_entries (expires_at);
