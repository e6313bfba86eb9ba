-- Organizations, their hierarchy and memberships (SQLite).

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    parent_id  TEXT REFERENCES organizations (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX organizations_by_parent ON organizations (parent_id);

CREATE TABLE memberships (
    id              TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at      INTEGER NOT NULL,
    UNIQUE (organization_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

-- One row every hierarchy change updates first: it serializes those changes, so two moves
-- that would together close a cycle cannot both pass the check.
CREATE TABLE organization_hierarchy_lock (
    id      INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO organization_hierarchy_lock (id, version) VALUES (1, 0);
