-- Issue 18: OpenID Connect sign-in replaces the ID-token settings (HS256 secret / PEM key),
-- which no real identity provider could use. The old rows cannot become OIDC settings
-- (no client id or secret), so they go; an Owner enters the IdP's issuer and client again.
DROP TABLE sso_settings;

CREATE TABLE sso_settings (
    org_id         TEXT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    -- The IdP's issuer URL; discovery is read from {issuer}/.well-known/openid-configuration.
    issuer         TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    -- Never shown again after it is set (the owner API answers client_secret_set: true).
    client_secret  TEXT NOT NULL,
    -- Scopes asked for besides "openid email profile", space-separated.
    extra_scopes   TEXT NOT NULL DEFAULT '',
    updated_at     TIMESTAMP NOT NULL
);

-- A sign-in through the IdP between GET /sso/{org} and its callback: one use, short-lived.
-- Keyed by the SHA-256 of the `state` (the browser holds the state in a cookie too).
CREATE TABLE sso_flows (
    state_hash     TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    nonce          TEXT NOT NULL,
    pkce_verifier  TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    expires_at     TIMESTAMP NOT NULL
);
CREATE INDEX sso_flows_expiry ON sso_flows (expires_at);

-- One-use, short-lived sign-in links mailed to members of organizations without SSO.
CREATE TABLE signin_links (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    member_id   TEXT NOT NULL REFERENCES org_members(id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP
);
CREATE INDEX signin_links_org ON signin_links (org_id, created_at);

-- Addresses of users the IdP deleted over SCIM: a sign-in through the IdP with one of them is
-- refused (PRODUCT.md: a user deleted by SCIM cannot sign in) until the IdP provisions the
-- person again (the new account is then found first).
CREATE TABLE scim_deleted_emails (
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email_norm  TEXT NOT NULL,
    deleted_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, email_norm)
);
