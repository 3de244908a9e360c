-- scim_fold(text) is registered on every SQLite connection (src/store/fold.rs): nothing to
-- store. This migration exists so both backends have the same list (PostgreSQL creates it).
SELECT 1;
