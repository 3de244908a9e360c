-- The organization's counters move out of its row, as on PostgreSQL (see that migration: the
-- row other tables reference is never updated by a write). One schema for both backends.
CREATE TABLE org_counters (
    org_id        TEXT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    queue_counter BIGINT NOT NULL DEFAULT 0,
    user_count    BIGINT NOT NULL DEFAULT 0,
    users_version BIGINT NOT NULL DEFAULT 0
);
INSERT INTO org_counters (org_id, queue_counter, user_count, users_version)
    SELECT id, queue_counter, user_count, users_version FROM organizations;
ALTER TABLE organizations DROP COLUMN queue_counter;
ALTER TABLE organizations DROP COLUMN user_count;
ALTER TABLE organizations DROP COLUMN users_version;
