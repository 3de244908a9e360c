-- Tier waits: an account holding a seat of one tier whose groups map it to another tier with
-- no free seat. The wait is served first-come (seq, from the organization's first-come counter)
-- when a seat of that tier frees up or is bought. Pending users need no row here: their
-- group tier is looked up when the queue drains. A user has at most one wait.
CREATE TABLE tier_waits (
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES scim_users(id) ON DELETE CASCADE,
    tier        TEXT NOT NULL CHECK (tier IN ('premium', 'standard')),
    seq         BIGINT NOT NULL,
    since       TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX tier_waits_order ON tier_waits (org_id, tier, seq);
CREATE INDEX tier_waits_user ON tier_waits (user_id);
