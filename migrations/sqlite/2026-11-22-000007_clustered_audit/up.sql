-- The audit log and users' emails are stored clustered on their key (WITHOUT ROWID): an
-- audit row was written to five B-trees (the rows, the id index and three more) and is now
-- written to three, and an email to two instead of three. Every create writes two audit rows
-- and an email on the single SQLite writer, and each B-tree it touches is one more page to
-- journal and to append to the WAL at commit.
CREATE TABLE audit_log_clustered (
    id          TEXT NOT NULL,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    at          TIMESTAMP NOT NULL,
    actor       TEXT NOT NULL,
    source      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    subject_id  TEXT,
    detail      TEXT NOT NULL,
    -- The audit API reads an organization's events by time: the key is that order.
    PRIMARY KEY (org_id, at, id)
) WITHOUT ROWID;
INSERT INTO audit_log_clustered (id, org_id, at, actor, source, kind, subject_id, detail)
    SELECT id, org_id, at, actor, source, kind, subject_id, detail FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_clustered RENAME TO audit_log;
CREATE INDEX audit_log_org_subject ON audit_log (org_id, subject_id);
CREATE INDEX audit_log_org_kind_at ON audit_log (org_id, kind, at);

CREATE TABLE scim_user_emails_clustered (
    user_id     TEXT NOT NULL REFERENCES scim_users(id) ON DELETE CASCADE,
    org_id      TEXT NOT NULL,
    position    INTEGER NOT NULL,
    value       TEXT NOT NULL,
    value_norm  TEXT NOT NULL,
    email_type  TEXT,
    is_primary  BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, position)
) WITHOUT ROWID;
INSERT INTO scim_user_emails_clustered
        (user_id, org_id, position, value, value_norm, email_type, is_primary)
    SELECT user_id, org_id, position, value, value_norm, email_type, is_primary
      FROM scim_user_emails;
DROP TABLE scim_user_emails;
ALTER TABLE scim_user_emails_clustered RENAME TO scim_user_emails;
CREATE INDEX scim_user_emails_org_value ON scim_user_emails (org_id, value_norm);
