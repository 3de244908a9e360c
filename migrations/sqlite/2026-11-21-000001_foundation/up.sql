-- Foundation: organizations, SCIM tokens, seat pools, SCIM users and groups, audit log.
-- Portable types only (TEXT ids, TIMESTAMP in UTC, BIGINT counters) so store/schema.rs is one file.

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    -- Next first-come number for the pending queue; also the row every seat-changing
    -- transaction updates first, which serialises them per organization.
    queue_counter BIGINT NOT NULL DEFAULT 0,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE org_domains (
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    domain      TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, domain)
);

CREATE TABLE scim_tokens (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);
CREATE INDEX scim_tokens_org ON scim_tokens (org_id);

CREATE TABLE seat_pools (
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    tier        TEXT NOT NULL CHECK (tier IN ('premium', 'standard')),
    purchased   BIGINT NOT NULL CHECK (purchased >= 0),
    claimed     BIGINT NOT NULL DEFAULT 0,
    updated_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, tier),
    CHECK (claimed >= 0 AND claimed <= purchased)
);

CREATE TABLE scim_users (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_name      TEXT NOT NULL,
    user_name_norm TEXT NOT NULL,
    external_id    TEXT,
    display_name   TEXT,
    active         BOOLEAN NOT NULL,
    seat_status    TEXT NOT NULL CHECK (seat_status IN ('active', 'pending', 'inactive')),
    seat_tier      TEXT CHECK (seat_tier IN ('premium', 'standard')),
    seated_at      TIMESTAMP,
    pending_since  TIMESTAMP,
    queue_seq      BIGINT,
    source         TEXT NOT NULL,
    resource       TEXT NOT NULL,
    version        BIGINT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    CHECK ((seat_status = 'active') = (seat_tier IS NOT NULL)),
    CHECK ((seat_status = 'pending') = (queue_seq IS NOT NULL))
);
CREATE UNIQUE INDEX scim_users_org_user_name ON scim_users (org_id, user_name_norm);
CREATE INDEX scim_users_org_external_id ON scim_users (org_id, external_id);
CREATE INDEX scim_users_org_created ON scim_users (org_id, created_at, id);
CREATE INDEX scim_users_org_queue ON scim_users (org_id, queue_seq) WHERE queue_seq IS NOT NULL;
CREATE INDEX scim_users_org_seated ON scim_users (org_id, seat_tier, seated_at) WHERE seat_tier IS NOT NULL;

-- One row per email value, so `emails.value eq` / `emails[...]` filters use an index.
CREATE TABLE scim_user_emails (
    user_id     TEXT NOT NULL REFERENCES scim_users(id) ON DELETE CASCADE,
    org_id      TEXT NOT NULL,
    position    INTEGER NOT NULL,
    value       TEXT NOT NULL,
    value_norm  TEXT NOT NULL,
    email_type  TEXT,
    is_primary  BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, position)
);
CREATE INDEX scim_user_emails_org_value ON scim_user_emails (org_id, value_norm);

CREATE TABLE scim_groups (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    display_name      TEXT NOT NULL,
    display_name_norm TEXT NOT NULL,
    external_id       TEXT,
    resource          TEXT NOT NULL,
    version           BIGINT NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);
CREATE INDEX scim_groups_org_display ON scim_groups (org_id, display_name_norm);
CREATE INDEX scim_groups_org_external_id ON scim_groups (org_id, external_id);
CREATE INDEX scim_groups_org_created ON scim_groups (org_id, created_at, id);

-- Membership as rows: adding one member to a huge group is one insert.
CREATE TABLE scim_group_members (
    group_id    TEXT NOT NULL REFERENCES scim_groups(id) ON DELETE CASCADE,
    member_id   TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    member_type TEXT NOT NULL CHECK (member_type IN ('User', 'Group')),
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX scim_group_members_member ON scim_group_members (member_id);

CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    at          TIMESTAMP NOT NULL,
    actor       TEXT NOT NULL,
    source      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    subject_id  TEXT,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_log_org_at ON audit_log (org_id, at);
CREATE INDEX audit_log_org_subject ON audit_log (org_id, subject_id);
