-- The record of each erasure of a person's personal data (POST
-- /v1/erasures): the API key that asked, how the person was named
-- ("customer_id" or "email") and how many rows of each kind changed (a JSON
-- object), never the person's address or id. Kept when the key is revoked.
CREATE TABLE erasures (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    api_key_id TEXT NOT NULL,
    subject    TEXT NOT NULL,
    counts     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX erasures_tenant ON erasures (tenant_id, id);
