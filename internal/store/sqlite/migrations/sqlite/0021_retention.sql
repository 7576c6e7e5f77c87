-- Retention: a delivery or event past the retention period is archived
-- (its bodies and headers deleted, the row kept with archived_at set);
-- retention_marks remember how far each archiving pass has gone.
ALTER TABLE deliveries ADD COLUMN archived_at BIGINT;
ALTER TABLE events ADD COLUMN archived_at BIGINT;
CREATE TABLE retention_marks (
    name TEXT PRIMARY KEY,
    mark TEXT NOT NULL
);
