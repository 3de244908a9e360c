-- Browser sessions: the cookie holds a random secret, the row its SHA-256, so a copy of the
-- database opens no session. The member's role is read fresh on every request; removing the
-- member (or its organization) ends its sessions with it.
CREATE TABLE web_sessions (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    member_id  TEXT NOT NULL REFERENCES org_members(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX web_sessions_member ON web_sessions (member_id);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
