-- Each tenant's own event types: a description, an optional JSON Schema of
-- the data (checked on publish) and an example. Deleting one archives it.
CREATE TABLE event_types (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    schema      TEXT,
    example     TEXT,
    archived_at INTEGER,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, type)
);

-- With it, only registered (or catalog) types may be published or subscribed to.
ALTER TABLE tenants ADD COLUMN strict_event_types INTEGER NOT NULL DEFAULT 0;
