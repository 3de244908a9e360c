ALTER TABLE organizations DROP COLUMN user_count;
