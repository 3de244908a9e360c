DROP INDEX IF EXISTS audit_log_org_kind_at;
DROP TABLE IF EXISTS webhook_outbox;
DROP TABLE IF EXISTS alert_settings;
