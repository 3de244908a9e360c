-- Provisioning log: one row per SCIM request of an organization (what the IdP asked, what it
-- got, and the seat decision it caused); no request bodies or secrets. Pruned after the
-- configured number of days.
CREATE TABLE provisioning_log (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    at            TIMESTAMP NOT NULL,
    method        TEXT NOT NULL,
    path          TEXT NOT NULL,
    status        INTEGER NOT NULL,
    scim_type     TEXT,
    resource_type TEXT,
    resource_id   TEXT,
    resource_name TEXT,
    user_agent    TEXT,
    token_id      TEXT,
    duration_ms   BIGINT NOT NULL,
    decision      TEXT
);
CREATE INDEX provisioning_log_org_at ON provisioning_log (org_id, at);
CREATE INDEX provisioning_log_resource ON provisioning_log (org_id, resource_id, at);
CREATE INDEX provisioning_log_at ON provisioning_log (at);
