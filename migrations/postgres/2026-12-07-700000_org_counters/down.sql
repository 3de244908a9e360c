ALTER TABLE organizations
    ADD COLUMN queue_counter BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN user_count BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN users_version BIGINT NOT NULL DEFAULT 0;
UPDATE organizations o
   SET queue_counter = c.queue_counter, user_count = c.user_count, users_version = c.users_version
  FROM org_counters c
 WHERE c.org_id = o.id;
DROP TABLE org_counters;
