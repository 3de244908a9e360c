-- Group tier policy: an organization maps an IdP group (by its SCIM id, which survives renames)
-- to the seat tier its members should get when one is free. Deleting the group drops its rule.
CREATE TABLE group_tier_policies (
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    group_id    TEXT NOT NULL REFERENCES scim_groups(id) ON DELETE CASCADE,
    tier        TEXT NOT NULL CHECK (tier IN ('premium', 'standard')),
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, group_id)
);
CREATE INDEX group_tier_policies_group ON group_tier_policies (group_id);
