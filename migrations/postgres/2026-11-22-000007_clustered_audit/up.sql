-- The audit log's key is (org_id, at, id), the order the audit API reads it in, as on
-- SQLite: one index fewer to write per event (the id index and the (org_id, at) index
-- become this one). Emails need no change here: PostgreSQL has no rowid B-tree to drop.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey;
DROP INDEX audit_log_org_at;
ALTER TABLE audit_log ADD PRIMARY KEY (org_id, at, id);
