-- How an endpoint's requests are signed, and in which header for the
-- profiles that name one.
ALTER TABLE endpoints ADD COLUMN signature_profile TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN signature_header TEXT NOT NULL DEFAULT '';

DROP TRIGGER endpoints_updated;
CREATE TRIGGER endpoints_updated AFTER UPDATE OF tenant_id, url, description, event_types, enabled, disabled_reason,
    headers, secret, max_concurrency, ordering, rate_limit, source_apps, source_types, payload_format,
    previous_secret, previous_secret_until, signature_profile, signature_header ON endpoints BEGIN
    UPDATE tenants SET endpoints_version = endpoints_version + 1 WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
