ALTER TABLE organizations DROP COLUMN users_version;
