-- Endpoint verification: an endpoint with verify set receives nothing
-- until its URL has echoed a challenge (verified_url is the URL that did).
ALTER TABLE endpoints ADD COLUMN verify INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN verified_url TEXT NOT NULL DEFAULT '';

DROP TRIGGER endpoints_updated;
CREATE TRIGGER endpoints_updated AFTER UPDATE OF tenant_id, url, description, event_types, enabled, disabled_reason,
    headers, secret, max_concurrency, ordering, rate_limit, source_apps, source_types, payload_format,
    previous_secret, previous_secret_until, signature_profile, signature_header, verify, verified_url ON endpoints BEGIN
    UPDATE tenants SET endpoints_version = endpoints_version + 1 WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
