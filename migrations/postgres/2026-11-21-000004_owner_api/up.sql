-- Owner API: invitations (stored hashed, 21-day expiry), a mail outbox delivered after commit,
-- and each organization's SSO (IdP) settings for JIT provisioning. Portable types only.

CREATE TABLE invitations (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    email_norm   TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('primary_owner', 'owner', 'admin', 'member')),
    -- SHA-256 of the secret; the secret itself is only in the mail.
    token_hash   TEXT NOT NULL,
    invited_by   TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'voided')),
    sent_at      TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    accepted_at  TIMESTAMP,
    voided_at    TIMESTAMP,
    CHECK (expires_at > sent_at)
);
CREATE INDEX invitations_org_email ON invitations (org_id, email_norm);
-- At most one live invitation per address: re-inviting voids the old one first.
CREATE UNIQUE INDEX invitations_one_pending ON invitations (org_id, email_norm) WHERE status = 'pending';

CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    to_addr         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP,
    last_error      TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (sent_at, next_attempt_at);

CREATE TABLE sso_settings (
    org_id      TEXT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    issuer      TEXT NOT NULL,
    audience    TEXT NOT NULL,
    algorithm   TEXT NOT NULL CHECK (algorithm IN ('HS256', 'RS256', 'ES256')),
    -- HS256: the shared secret; RS256/ES256: the IdP's public key as PEM.
    key         TEXT NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
