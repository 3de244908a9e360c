DROP TABLE group_tier_policies;
