DROP TABLE scim_deleted_emails;
DROP TABLE signin_links;
DROP TABLE sso_flows;
DROP TABLE sso_settings;
CREATE TABLE sso_settings (
    org_id      TEXT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    issuer      TEXT NOT NULL,
    audience    TEXT NOT NULL,
    algorithm   TEXT NOT NULL CHECK (algorithm IN ('HS256', 'RS256', 'ES256')),
    key         TEXT NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
