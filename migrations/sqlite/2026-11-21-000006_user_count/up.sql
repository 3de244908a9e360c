-- How many SCIM users each organization has: an unfiltered /Users page reads its
-- totalResults here instead of counting the organization's users on every page.
-- Kept by the same transactions that insert and delete users.
ALTER TABLE organizations ADD COLUMN user_count BIGINT NOT NULL DEFAULT 0;
UPDATE organizations
   SET user_count = (SELECT COUNT(*) FROM scim_users WHERE scim_users.org_id = organizations.id);
