-- E-mail endpoints: an endpoint's type ('http': url, 'email': an address
-- receiving each delivery as an e-mail with the signed payload attached).
ALTER TABLE endpoints ADD COLUMN type TEXT NOT NULL DEFAULT 'http';
ALTER TABLE endpoints ADD COLUMN email TEXT NOT NULL DEFAULT '';

DROP TRIGGER endpoints_updated;
CREATE TRIGGER endpoints_updated AFTER UPDATE OF tenant_id, url, description, event_types, enabled, disabled_reason,
    headers, secret, max_concurrency, ordering, rate_limit, source_apps, source_types, payload_format,
    previous_secret, previous_secret_until, signature_profile, signature_header, verify, verified_url, auth, tls,
    filter, transform, type, email ON endpoints BEGIN
    UPDATE tenants SET endpoints_version = endpoints_version + 1 WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
