-- A delivery whose first attempt succeeds keeps that attempt in its own
-- row instead of an attempts row: one write fewer for most deliveries.
-- The attempt's status code is last_status_code; it had no error.
ALTER TABLE deliveries ADD COLUMN inline_at BIGINT;
ALTER TABLE deliveries ADD COLUMN inline_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN inline_body TEXT NOT NULL DEFAULT '';
