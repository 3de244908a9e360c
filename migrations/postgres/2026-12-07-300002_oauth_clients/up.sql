-- OAuth 2.0 client credentials for SCIM (RFC 6749 §4.4). A client belongs to one organization
-- and has one or more secrets (several at once, for rotation), stored as SHA-256 hashes. Access
-- tokens are opaque, short-lived and stored hashed too, so revoking a client stops its tokens
-- at once on every server process.
CREATE TABLE oauth_clients (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    description TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at  TIMESTAMP
);
CREATE INDEX oauth_clients_org ON oauth_clients (org_id);
CREATE TABLE oauth_client_secrets (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    revoked_at  TIMESTAMP
);
CREATE INDEX oauth_client_secrets_client ON oauth_client_secrets (client_id);
CREATE TABLE oauth_access_tokens (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL
);
CREATE INDEX oauth_access_tokens_client ON oauth_access_tokens (client_id, expires_at);
