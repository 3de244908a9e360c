DROP TABLE tier_waits;
