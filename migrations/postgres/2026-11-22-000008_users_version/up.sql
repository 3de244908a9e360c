-- Moves on whenever users join or leave the organization (kept with user_count, by the same
-- statements). A user list page deep into the organization's users seeks from remembered
-- positions instead of stepping over every user before it; those positions hold only while
-- this number has not moved.
ALTER TABLE organizations ADD COLUMN users_version BIGINT NOT NULL DEFAULT 0;
