DROP FUNCTION IF EXISTS scim_fold(text);
