-- How Slotwire authenticates to an endpoint's receiver: HTTP basic or
-- OAuth 2.0 client credentials (auth), a custom CA and a client
-- certificate (tls). Both are JSON, stored encrypted.
ALTER TABLE endpoints ADD COLUMN auth TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN tls TEXT NOT NULL DEFAULT '';

DROP TRIGGER endpoints_updated;
CREATE TRIGGER endpoints_updated AFTER UPDATE OF tenant_id, url, description, event_types, enabled, disabled_reason,
    headers, secret, max_concurrency, ordering, rate_limit, source_apps, source_types, payload_format,
    previous_secret, previous_secret_until, signature_profile, signature_header, verify, verified_url, auth, tls
    ON endpoints BEGIN
    UPDATE tenants SET endpoints_version = endpoints_version + 1 WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
