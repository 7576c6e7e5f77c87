-- A rotated endpoint secret keeps signing (encrypted, like the secret)
-- until the end of its grace period.
ALTER TABLE endpoints ADD COLUMN previous_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN previous_secret_until BIGINT;
