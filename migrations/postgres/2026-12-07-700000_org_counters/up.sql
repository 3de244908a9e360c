-- The organization's counters move out of its row. Every seat-changing write updates them,
-- and nearly every other table references the organization row by foreign key: a batch of
-- writes committed together (group commit) runs each write in a savepoint, and a foreign-key
-- check share-locking a row that another savepoint of the same transaction updated makes
-- PostgreSQL keep a multixact of all of them, dearer with every write (docs/benchmarks.md).
-- Nothing references this table, so updating it never meets a foreign-key check.
CREATE TABLE org_counters (
    org_id        TEXT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    -- Next first-come number for the pending queue; also the row every seat-changing
    -- transaction updates first, which serialises them per organization.
    queue_counter BIGINT NOT NULL DEFAULT 0,
    -- SCIM users of the organization (the total of an unfiltered list).
    user_count    BIGINT NOT NULL DEFAULT 0,
    -- Moves on whenever users join or leave (see page_marks).
    users_version BIGINT NOT NULL DEFAULT 0
);
INSERT INTO org_counters (org_id, queue_counter, user_count, users_version)
    SELECT id, queue_counter, user_count, users_version FROM organizations;
ALTER TABLE organizations
    DROP COLUMN queue_counter,
    DROP COLUMN user_count,
    DROP COLUMN users_version;
