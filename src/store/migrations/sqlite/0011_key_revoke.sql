-- 0011_key_revoke.sql - API keys can be revoked.
--
-- A key is never deleted: the access records and events of what it did name
-- it. Revoking it sets revoked_at, and a revoked key authenticates nothing.
-- Servers reuse a key's check for a few seconds (api/auth.c), so a running
-- server refuses a revoked key within that time.

-- NULL while the key is valid.
ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER;
