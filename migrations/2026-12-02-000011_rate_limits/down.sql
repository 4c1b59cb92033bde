DROP FUNCTION rate_limit_refund(uuid[], uuid[], float8[], float8[]);
DROP FUNCTION rate_limit_take(uuid, uuid, float8, float8, float8);
DROP FUNCTION rate_limit_level(float8, timestamptz, float8, float8);
DROP TABLE rate_limit_buckets;
ALTER TABLE api_keys DROP COLUMN introspection;
ALTER TABLE stores DROP COLUMN rate_limit_restore, DROP COLUMN rate_limit_bucket;
