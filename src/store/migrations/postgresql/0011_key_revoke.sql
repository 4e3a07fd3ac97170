-- 0011_key_revoke.sql - API keys can be revoked.
--
-- The same version as migrations/sqlite/0011_key_revoke.sql, which explains
-- it: revoked_at is NULL while the key is valid.

ALTER TABLE api_keys ADD COLUMN revoked_at bigint;
