ALTER TABLE organizations ADD COLUMN queue_counter BIGINT NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN user_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN users_version BIGINT NOT NULL DEFAULT 0;
UPDATE organizations SET
    queue_counter = (SELECT queue_counter FROM org_counters WHERE org_id = organizations.id),
    user_count = (SELECT user_count FROM org_counters WHERE org_id = organizations.id),
    users_version = (SELECT users_version FROM org_counters WHERE org_id = organizations.id);
DROP TABLE org_counters;
