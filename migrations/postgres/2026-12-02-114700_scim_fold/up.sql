-- scim_fold(text): the case fold of caseExact=false comparisons and sort keys (src/store/fold.rs).
-- lower() follows the database's ctype, which folds ASCII only under "C"; ICU's root locale
-- folds all of Unicode whatever the ctype. A server built without ICU keeps lower().
-- An SQL function of one expression: the planner inlines it.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu' AND collprovider = 'i')
       AND current_setting('server_encoding') = 'UTF8' THEN
        EXECUTE $f$CREATE FUNCTION scim_fold(t text) RETURNS text
                   LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
                   AS 'SELECT lower(t COLLATE "und-x-icu")'$f$;
    ELSE
        EXECUTE $f$CREATE FUNCTION scim_fold(t text) RETURNS text
                   LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
                   AS 'SELECT lower(t)'$f$;
    END IF;
END
$$;
