ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey;
ALTER TABLE audit_log ADD PRIMARY KEY (id);
CREATE INDEX audit_log_org_at ON audit_log (org_id, at);
